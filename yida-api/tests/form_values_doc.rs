//! `docs/form-values.md` and `docs/form-values.zh-CN.md` hold the component table rendered
//! from `yida_api::components::COMPONENTS`; this test fails when they are stale
//! (`UPDATE_DOCS=1 cargo test -p yida-api --test form_values_doc` rewrites them).

use yida_api::components::{Matching, Shape, COMPONENTS};

const BEGIN: &str = "<!-- BEGIN component table (generated from yida_api::components) -->";
const END: &str = "<!-- END component table -->";

fn shape(s: Shape, zh: bool) -> String {
    let keys = |k: &[&str]| {
        k.iter()
            .map(|k| format!("`{k}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match (s, zh) {
        (Shape::Objects(k), false) => format!("list of objects ({})", keys(k)),
        (Shape::Objects(k), true) => format!("对象数组（{}）", keys(k)),
        (Shape::Object(k), false) => format!("object ({})", keys(k)),
        (Shape::Object(k), true) => format!("对象（{}）", keys(k)),
        (s, false) => s.describe().to_string(),
        (s, true) => match s {
            Shape::Text => "文本".into(),
            Shape::Number => "数字".into(),
            Shape::TextList => "文本数组".into(),
            Shape::EpochMs => "毫秒时间戳".into(),
            Shape::EpochMsPair => "两个毫秒时间戳 [开始, 结束]".into(),
            Shape::NumberRange => "两个数 [下限, 上限]".into(),
            Shape::UserIds => "userId 数组".into(),
            Shape::Names => "名称数组".into(),
            Shape::DepartmentIds => "部门 id 数组".into(),
            Shape::RegionCodes => "行政区划代码数组".into(),
            Shape::Rows => "行对象数组".into(),
            Shape::None => "无".into(),
            _ => s.describe().into(),
        },
    }
}

fn render(zh: bool) -> String {
    let mut out = String::new();
    out.push_str(if zh {
        "| 组件 | 名称 | 写入格式 | 读取格式（响应） | 查询格式 | 只读 | Rust 类型 | 来源 |\n|---|---|---|---|---|---|---|---|\n"
    } else {
        "| component | 中文 | write format | read format (replies) | search format | read-only | Rust type | sources |\n|---|---|---|---|---|---|---|---|\n"
    });
    for c in COMPONENTS {
        let mut write = shape(c.write.shape, zh);
        if c.write.wrapped {
            write.push_str(if zh {
                "，单个值也要 `[{…}]` 包装"
            } else {
                ", `[{…}]` even for one"
            });
        }
        if let Some(t) = c.write.in_table {
            if t != c.write.shape || c.kind.component_name() == "DepartmentSelectField" {
                write.push_str(if zh {
                    "；子表单内同样为 id 数组"
                } else {
                    "; the same list inside a sub-form"
                });
            }
        }
        write.push_str(&format!(": `{}`", c.write.example.replace('|', "\\|")));
        if c.read_only {
            write = if zh {
                "不可写（宜搭生成）".into()
            } else {
                "not written (Yida sets it)".into()
            };
        }
        let mut read = shape(c.read.shape, zh);
        if c.read.json_text {
            read.push_str(if zh {
                "，以 JSON 文本返回"
            } else {
                ", as JSON text"
            });
        }
        if let Some(t) = c.read.twin {
            read.push_str(&if zh {
                format!(
                    "；`{}` 键：{}{}",
                    t.suffix,
                    shape(t.shape, zh),
                    if t.json_text { "（JSON 文本）" } else { "" }
                )
            } else {
                format!(
                    "; twin `{}`: {}{}",
                    t.suffix,
                    shape(t.shape, zh),
                    if t.json_text { " (JSON text)" } else { "" }
                )
            });
        }
        let search = if c.search.matching == Matching::Unsupported {
            if zh {
                "不支持 / 无来源".to_string()
            } else {
                "not supported / no source".to_string()
            }
        } else {
            format!("{} ({:?})", shape(c.search.shape, zh), c.search.matching)
        };
        let sources: Vec<String> = c.sources.iter().map(|s| format!("{s:?}")).collect();
        out.push_str(&format!(
            "| `{}` (`{}_…`) | {} | {} | {} | {} | {} | `{}` | {} |\n",
            c.kind.component_name(),
            c.kind.prefix(),
            c.label_zh,
            write,
            read,
            search,
            if c.read_only {
                if zh {
                    "是"
                } else {
                    "yes"
                }
            } else if zh {
                "否"
            } else {
                "no"
            },
            c.rust_type,
            sources.join(", "),
        ));
    }
    out.push_str(if zh {
        "\n### 各组件说明（来源不一致或缺失之处）\n\n"
    } else {
        "\n### Notes (where sources disagree or are silent)\n\n"
    });
    for c in COMPONENTS {
        if !c.note.is_empty() {
            out.push_str(&format!(
                "- `{}`: {}\n",
                c.kind.component_name(),
                c.note.split_whitespace().collect::<Vec<_>>().join(" ")
            ));
        }
    }
    out
}

fn check(path: &str, zh: bool) {
    let full = format!("{}/../{path}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{path}: {e}"));
    let (Some(a), Some(b)) = (text.find(BEGIN), text.find(END)) else {
        panic!("{path}: markers missing");
    };
    let want = format!("{BEGIN}\n{}{END}", render(zh));
    let have = &text[a..b + END.len()];
    if have != want {
        if std::env::var_os("UPDATE_DOCS").is_some() {
            let new = format!("{}{}{}", &text[..a], want, &text[b + END.len()..]);
            std::fs::write(&full, new).unwrap();
        } else {
            panic!("{path} is stale: UPDATE_DOCS=1 cargo test -p yida-api --test form_values_doc");
        }
    }
}

#[test]
fn docs_hold_the_current_table() {
    check("docs/form-values.md", false);
    check("docs/form-values.zh-CN.md", true);
}
