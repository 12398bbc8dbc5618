//! Reads DingTalk's API doc pages saved as Markdown (the format of
//! `shared/reference/dingtalk-docs/`): front matter with `source_url`, then either the current
//! layout (a `基本信息` table with `HTTP URL`, `HTTP Method`, `支持的应用类型`, `权限要求`, and
//! `路径参数`/`查询参数`/`请求体` tables) or the historical one (a `权限` table per app kind,
//! `请求方法` as an HTTP request line, and `Path参数`/`Query参数`/`Body参数` tables).

use crate::pysdk::Location;
use std::path::{Path, PathBuf};

/// One request parameter row of a page.
#[derive(Debug, Clone)]
pub struct PageParam {
    pub name: String,
    pub location: Location,
    /// The page's type word (`String`, `Long`, `Array of String`, …).
    pub ty: String,
    pub required: bool,
}

/// The facts of one API page.
#[derive(Debug, Clone)]
pub struct DocPage {
    /// File name, relative to the folder given.
    pub file: String,
    pub title: Option<String>,
    pub source_url: Option<String>,
    pub method: String,
    /// Path as published, from `/v1.0/...`.
    pub path: String,
    pub params: Vec<PageParam>,
    /// The scope named by the page, if any.
    pub permission: Option<String>,
    /// Spec spelling of the app kinds the page supports.
    pub app_kinds: Vec<String>,
}

fn cells(line: &str) -> Option<Vec<String>> {
    let t = line.trim();
    let inner = t.strip_prefix('|')?.strip_suffix('|')?;
    Some(inner.split('|').map(clean).collect())
}

/// Removes Markdown emphasis and escapes from a cell.
fn clean(cell: &str) -> String {
    let mut out = String::new();
    let mut chars = cell.trim().chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            }
            '*' | '`' => {}
            _ => out.push(c),
        }
    }
    out.trim().to_string()
}

fn kind_of(text: &str) -> Option<&'static str> {
    if text.contains("企业内部应用") {
        Some("internal")
    } else if text.contains("第三方企业应用") {
        Some("third_party_enterprise")
    } else if text.contains("第三方个人应用") {
        Some("third_party_personal")
    } else {
        None
    }
}

fn scope_in(text: &str) -> Option<String> {
    let start = text.find("Yida.")?;
    let scope: String = text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '.')
        .collect();
    let scope = scope.trim_end_matches('.').to_string();
    (scope.split('.').count() == 3).then_some(scope)
}

fn path_of_url(url: &str) -> Option<String> {
    let start = url.find("/v1.0/").or_else(|| url.find("/v2.0/"))?;
    let path: String = url[start..]
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != '?')
        .collect();
    Some(path)
}

/// Parses one page; `None` when it describes no HTTP operation.
pub fn parse_page(file: &str, text: &str) -> Option<DocPage> {
    let mut title = None;
    let mut source_url = None;
    let mut lines = text.lines().peekable();
    if lines.peek().map(|l| l.trim()) == Some("---") {
        lines.next();
        for l in lines.by_ref() {
            if l.trim() == "---" {
                break;
            }
            if let Some((k, v)) = l.split_once(':') {
                let v = v.trim().trim_matches('"').to_string();
                match k.trim() {
                    "title" => title = Some(v),
                    "source_url" => source_url = Some(v),
                    _ => {}
                }
            }
        }
    }
    let mut method = None;
    let mut path = None;
    let mut permission = None;
    let mut app_kinds: Vec<String> = Vec::new();
    let mut params = Vec::new();
    // What the current section holds.
    #[derive(PartialEq, Clone, Copy)]
    enum Sec {
        Other,
        Params(Location),
        Permission,
        RequestLine,
        Done,
    }
    let mut sec = Sec::Other;
    let mut in_code = false;
    for line in lines {
        let t = line.trim();
        if t.starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if in_code {
            if sec == Sec::RequestLine && method.is_none() {
                let mut words = t.split_whitespace();
                if let (Some(m), Some(p)) = (words.next(), words.next()) {
                    if ["GET", "POST", "PUT", "DELETE", "PATCH"].contains(&m) {
                        method = Some(m.to_string());
                        path = path_of_url(p);
                    }
                }
            }
            continue;
        }
        if t.starts_with('#') {
            let h = clean(t.trim_start_matches('#'));
            sec = if sec == Sec::Done
                || h.contains("响应")
                || h.contains("返回")
                || h.contains("错误码")
            {
                Sec::Done
            } else if h.contains("路径参数") || h.starts_with("Path参数") {
                Sec::Params(Location::Path)
            } else if h.contains("查询参数") || h.starts_with("Query参数") {
                Sec::Params(Location::Query)
            } else if h.contains("请求体") || h.starts_with("Body参数") {
                Sec::Params(Location::Body)
            } else if h == "权限" {
                Sec::Permission
            } else if h.contains("请求方法") {
                Sec::RequestLine
            } else {
                Sec::Other
            };
            continue;
        }
        let Some(row) = cells(t) else { continue };
        if row
            .iter()
            .all(|c| c.chars().all(|ch| ch == '-' || ch == ':'))
        {
            continue;
        }
        // The basic-information table may sit under any heading of the request part.
        if row.len() >= 2 && sec != Sec::Done {
            let (k, v) = (row[0].as_str(), row[1].as_str());
            match k {
                "HTTP URL" => {
                    path = path_of_url(v);
                    continue;
                }
                "HTTP Method" => {
                    method = Some(v.trim().to_ascii_uppercase());
                    continue;
                }
                "支持的应用类型" => {
                    for part in v.split("appType-").skip(1) {
                        if let Some(kind) = kind_of(part) {
                            app_kinds.push(kind.to_string());
                        }
                    }
                    continue;
                }
                "权限要求" => {
                    permission = scope_in(v);
                    continue;
                }
                _ => {}
            }
        }
        match sec {
            Sec::Params(loc) if row.len() >= 3 => {
                let name = row[0].clone();
                if name == "名称" || name.is_empty() {
                    continue;
                }
                params.push(PageParam {
                    name,
                    location: loc,
                    ty: row[1].clone(),
                    required: row[2].starts_with('是'),
                });
            }
            Sec::Permission if row.len() >= 3 => {
                if let Some(kind) = kind_of(&row[0]) {
                    if row[1].starts_with("支持") {
                        app_kinds.push(kind.to_string());
                    }
                }
                if let Some(s) = scope_in(&row[2]) {
                    permission.get_or_insert(s);
                }
            }
            _ => {}
        }
    }
    app_kinds.sort();
    app_kinds.dedup();
    Some(DocPage {
        file: file.to_string(),
        title,
        source_url,
        method: method?,
        path: path?,
        params,
        permission,
        app_kinds,
    })
}

/// Reads every `*.md` page of `dir` (not recursive) that describes an operation.
pub fn load(dir: &Path) -> Result<Vec<DocPage>, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("--docs {}: {e}", dir.display()))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "md"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).map_err(|e| format!("{}: {e}", f.display()))?;
        let name = f
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if let Some(page) = parse_page(&name, &text) {
            out.push(page);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleaning() {
        assert_eq!(clean(" **sid\\_instDetail** "), "sid_instDetail");
        assert_eq!(
            path_of_url("https://api.dingtalk.com/v1.0/yida/x/{id}?a=b"),
            Some("/v1.0/yida/x/{id}".into())
        );
        assert_eq!(
            scope_in("permission-Yida.Form.Read-宜搭表单数据读权限"),
            Some("Yida.Form.Read".into())
        );
        assert_eq!(scope_in("暂不支持新增申请"), None);
    }
}
