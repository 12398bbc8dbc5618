//! jq filters over JSON, for the `yida` command's `--jq` option: jaq (a Rust implementation
//! of jq's language) with its standard library, compiled once and run on each reply.
//!
//! ```
//! let filter = yida_jq::Filter::compile(".data[] | .id").unwrap();
//! let out = filter.run(br#"{"data":[{"id":"a"},{"id":"b"}]}"#, 10).unwrap();
//! assert_eq!(out.iter().map(|v| v.to_string()).collect::<Vec<_>>(), ["\"a\"", "\"b\""]);
//! assert!(yida_jq::Filter::compile(".data[] |").is_err());
//! ```

use jaq_core::data::JustLut;
use jaq_core::load::{Arena, File, Loader};

/// A value a filter takes and gives (jaq's JSON value; objects keep their keys' order).
pub use jaq_json::Val;

/// A compiled filter.
pub struct Filter(jaq_core::Filter<JustLut<Val>>);

impl std::fmt::Debug for Filter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Filter")
    }
}

impl Filter {
    /// Compiles `code`; the error lists what is wrong (a syntax error with its column, an
    /// undefined function with its arity), one message each.
    pub fn compile(code: &str) -> Result<Filter, Vec<String>> {
        let defs = jaq_core::defs()
            .chain(jaq_std::defs())
            .chain(jaq_json::defs());
        let funs = jaq_core::funs()
            .chain(jaq_std::funs())
            .chain(jaq_json::funs());
        let loader = Loader::new(defs);
        let arena = Arena::default();
        let at = |rest: &str| {
            // The error's position: where the unparsed rest starts in the expression.
            let offset = (rest.as_ptr() as usize).saturating_sub(code.as_ptr() as usize);
            let col = code.get(..offset).map_or(0, |s| s.chars().count()) + 1;
            if rest.is_empty() {
                "at the end".to_string()
            } else {
                format!("at column {col}")
            }
        };
        let modules = loader
            .load(&arena, File { code, path: () })
            .map_err(|errs| {
                let mut msgs = Vec::new();
                for (_, e) in errs {
                    match e {
                        jaq_core::load::Error::Io(v) => {
                            msgs.extend(v.into_iter().map(|(_, m)| m));
                        }
                        jaq_core::load::Error::Lex(v) => {
                            msgs.extend(v.into_iter().map(|(exp, rest)| {
                                format!("expected {} {}", exp.as_str(), at(rest))
                            }))
                        }
                        jaq_core::load::Error::Parse(v) => {
                            msgs.extend(v.into_iter().map(|(exp, rest)| {
                                format!("expected {} {}", exp.as_str(), at(rest))
                            }))
                        }
                    }
                }
                msgs
            })?;
        let filter = jaq_core::Compiler::default()
            .with_funs(funs)
            .compile(modules)
            .map_err(|errs| {
                errs.into_iter()
                    .flat_map(|(_, v)| v)
                    .map(|(name, undef)| {
                        let what = match undef {
                            jaq_core::compile::Undefined::Var => "variable",
                            jaq_core::compile::Undefined::Filter(_) => "function",
                            jaq_core::compile::Undefined::Mod => "module",
                            jaq_core::compile::Undefined::Label => "label",
                            _ => "name",
                        };
                        let arity = match undef {
                            jaq_core::compile::Undefined::Filter(n) => format!("/{n}"),
                            _ => String::new(),
                        };
                        format!("undefined {what} `{name}{arity}`")
                    })
                    .collect::<Vec<_>>()
            })?;
        Ok(Filter(filter))
    }

    /// Runs the filter on one JSON text: its outputs (at most `max`: `repeat(.)` never
    /// ends), or the first error's text.
    pub fn run(&self, json: &[u8], max: usize) -> Result<Vec<Val>, String> {
        use jaq_core::{unwrap_valr, Ctx, Vars};
        let val = jaq_json::read::parse_single(json).map_err(|e| e.to_string())?;
        let ctx = Ctx::<JustLut<Val>>::new(&self.0.lut, Vars::new([]));
        let mut out = Vec::new();
        for v in self.0.id.run((ctx, val)).map(unwrap_valr) {
            if out.len() == max {
                return Err(format!(
                    "more than {max} results for one reply (an endless generator?)"
                ));
            }
            out.push(v.map_err(|e| e.to_string())?);
        }
        Ok(out)
    }
}
