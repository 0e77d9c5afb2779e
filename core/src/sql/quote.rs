//! Quoting identifiers and string literals per dialect, so that no name taken from a
//! definition or from the options can end a quoted token early.

use super::{Dialect, SqlError};

/// Characters Rust's `str::trim` removes (Unicode `White_Space`); the engine trims
/// boolean strings and time strings with it.
pub(crate) const WHITE_SPACE: &str = "\t\n\u{0B}\u{0C}\r \u{85}\u{A0}\u{1680}\u{2000}\u{2001}\u{2002}\u{2003}\u{2004}\u{2005}\u{2006}\u{2007}\u{2008}\u{2009}\u{200A}\u{2028}\u{2029}\u{202F}\u{205F}\u{3000}";

/// Quotes one identifier (a column, an output name, one part of a table name).
pub fn quote_identifier(dialect: Dialect, name: &str, what: &str) -> Result<String, SqlError> {
    check_name(name, what)?;
    let mut out = String::with_capacity(name.len() + 2);
    match dialect {
        Dialect::DuckDb | Dialect::Snowflake => {
            out.push('"');
            for c in name.chars() {
                if c == '"' {
                    out.push('"');
                }
                out.push(c);
            }
            out.push('"');
        }
        // Spark: a backtick inside a quoted identifier is doubled, nothing else is special,
        // and nothing escapes `${`.
        Dialect::Spark => {
            if name.contains("${") {
                return Err(SqlError::SparkVariable { what: what.into() });
            }
            out.push('`');
            for c in name.chars() {
                if c == '`' {
                    out.push('`');
                }
                out.push(c);
            }
            out.push('`');
        }
        // BigQuery: quoted identifiers take the same escape sequences as string literals.
        Dialect::BigQuery => {
            out.push('`');
            push_backslash_escaped(&mut out, name, '`');
            out.push('`');
        }
    }
    Ok(out)
}

/// Quotes a string literal.
pub fn quote_literal(dialect: Dialect, value: &str) -> Result<String, SqlError> {
    if value.contains('\0') {
        return Err(SqlError::NulCharacter {
            what: "string literal".into(),
        });
    }
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    match dialect {
        // Standard SQL strings: only the quote is special; backslashes are literal.
        Dialect::DuckDb => {
            for c in value.chars() {
                if c == '\'' {
                    out.push('\'');
                }
                out.push(c);
            }
        }
        // These read backslash escape sequences inside '...'.
        Dialect::Snowflake | Dialect::BigQuery => {
            push_backslash_escaped(&mut out, value, '\'');
        }
        // Spark also replaces `${...}` in the query's text before reading it: a `$` that
        // opens one is written as its escape, which the substitution does not see.
        Dialect::Spark => {
            let mut parts = value.split("${");
            if let Some(first) = parts.next() {
                push_backslash_escaped(&mut out, first, '\'');
            }
            for part in parts {
                out.push_str("\\u0024{");
                push_backslash_escaped(&mut out, part, '\'');
            }
        }
    }
    out.push('\'');
    Ok(out)
}

/// A qualified table name (`db.schema.table`), each part quoted. Parts are split at dots,
/// so a part cannot itself hold a dot.
pub fn quote_table(dialect: Dialect, table: &str) -> Result<String, SqlError> {
    let parts = table
        .split('.')
        .map(|part| quote_identifier(dialect, part, "table name part"))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(parts.join("."))
}

/// RFC 6901 JSON Pointer to one object member: `/` with `~` and `/` escaped.
pub fn json_pointer(key: &str) -> String {
    let mut out = String::with_capacity(key.len() + 1);
    out.push('/');
    for c in key.chars() {
        match c {
            '~' => out.push_str("~0"),
            '/' => out.push_str("~1"),
            c => out.push(c),
        }
    }
    out
}

fn check_name(name: &str, what: &str) -> Result<(), SqlError> {
    if name.is_empty() {
        return Err(SqlError::EmptyName { what: what.into() });
    }
    if name.contains('\0') {
        return Err(SqlError::NulCharacter { what: what.into() });
    }
    Ok(())
}

/// Backslash-escapes `\`, the closing quote and control characters; everything else is
/// kept as is (these dialects read UTF-8 source text).
fn push_backslash_escaped(out: &mut String, value: &str, quote: char) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() || c == '\u{2028}' || c == '\u{2029}' => {
                out.push_str(&format!("\\u{:04X}", u32::from(c)));
            }
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: &str = "x'); DROP TABLE t; --";

    #[test]
    fn duckdb_and_snowflake_double_quotes() {
        assert_eq!(
            quote_identifier(Dialect::DuckDb, "a\"b", "c").unwrap(),
            "\"a\"\"b\""
        );
        assert_eq!(
            quote_identifier(Dialect::Snowflake, "household:has_dog", "c").unwrap(),
            "\"household:has_dog\""
        );
    }

    #[test]
    fn backtick_dialects() {
        assert_eq!(
            quote_identifier(Dialect::Spark, "a`b", "c").unwrap(),
            "`a``b`"
        );
        assert_eq!(
            quote_identifier(Dialect::BigQuery, "a`b\\c", "c").unwrap(),
            "`a\\`b\\\\c`"
        );
    }

    #[test]
    fn literals() {
        assert_eq!(
            quote_literal(Dialect::DuckDb, HOSTILE).unwrap(),
            "'x''); DROP TABLE t; --'"
        );
        assert_eq!(quote_literal(Dialect::DuckDb, "a\\b").unwrap(), "'a\\b'");
        assert_eq!(
            quote_literal(Dialect::Snowflake, "it's \\").unwrap(),
            "'it\\'s \\\\'"
        );
        assert_eq!(
            quote_literal(Dialect::BigQuery, "a\nb\u{1}").unwrap(),
            "'a\\nb\\u0001'"
        );
        assert_eq!(quote_literal(Dialect::Spark, "é👍").unwrap(), "'é👍'");
    }

    #[test]
    fn nul_and_empty_are_refused() {
        assert!(quote_literal(Dialect::DuckDb, "a\0").is_err());
        assert!(quote_identifier(Dialect::Spark, "", "column").is_err());
        assert!(quote_table(Dialect::DuckDb, "db..t").is_err());
    }

    #[test]
    fn tables_are_split_at_dots() {
        assert_eq!(
            quote_table(Dialect::BigQuery, "proj.ds.t`x").unwrap(),
            "`proj`.`ds`.`t\\`x`"
        );
    }

    #[test]
    fn pointers_escape_tilde_and_slash() {
        assert_eq!(json_pointer("a/b~c"), "/a~1b~0c");
        assert_eq!(json_pointer("$.[]\"\\"), "/$.[]\"\\");
        assert_eq!(json_pointer(""), "/");
    }
}
