//! What an API key may do: a CRM that only reports closed requests needs none of the reports,
//! cases or exports, and a key that leaks should give away no more than its job.

use std::fmt;

use super::account::Scope;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ApiScope {
    InteractionsWrite,
    ReportsRead,
    FollowupsRead,
    FollowupsWrite,
    ExportRead,
}

impl ApiScope {
    pub const ALL: [ApiScope; 5] = [
        ApiScope::InteractionsWrite,
        ApiScope::ReportsRead,
        ApiScope::FollowupsRead,
        ApiScope::FollowupsWrite,
        ApiScope::ExportRead,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ApiScope::InteractionsWrite => "interactions:write",
            ApiScope::ReportsRead => "reports:read",
            ApiScope::FollowupsRead => "followups:read",
            ApiScope::FollowupsWrite => "followups:write",
            ApiScope::ExportRead => "export:read",
        }
    }

    pub fn parse(text: &str) -> Option<ApiScope> {
        ApiScope::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Parses `a,b` (spaces allowed), without repeats; names every unknown scope.
    pub fn parse_list(text: &str) -> Result<Vec<ApiScope>, String> {
        let mut out = Vec::new();
        let mut unknown = Vec::new();
        for part in text
            .split([',', ' '])
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            match ApiScope::parse(part) {
                Some(s) if !out.contains(&s) => out.push(s),
                Some(_) => {}
                None => unknown.push(part.to_string()),
            }
        }
        if !unknown.is_empty() {
            return Err(format!(
                "unknown scope {} (the scopes are {})",
                unknown.join(", "),
                ApiScope::ALL.map(ApiScope::as_str).join(", ")
            ));
        }
        if out.is_empty() {
            return Err("a key needs at least one scope".into());
        }
        out.sort();
        Ok(out)
    }

    /// The stored form: every scope's name, comma-separated.
    pub fn join(scopes: &[ApiScope]) -> String {
        scopes
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }
}

impl fmt::Display for ApiScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a presented key was granted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub key_id: String,
    /// The key's name, for the audit log.
    pub name: String,
    pub scopes: Vec<ApiScope>,
    /// The departments the key may see; empty: every department.
    pub departments: Vec<String>,
}

impl Grant {
    pub fn allows(&self, scope: ApiScope) -> bool {
        self.scopes.contains(&scope)
    }

    /// The departments as the services' scope value.
    pub fn scope(&self) -> Scope {
        if self.departments.is_empty() {
            Scope::All
        } else {
            Scope::Departments(self.departments.clone())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_lists_are_checked_and_stored_in_one_order() {
        let s = ApiScope::parse_list("reports:read, interactions:write,reports:read").expect("ok");
        assert_eq!(s, vec![ApiScope::InteractionsWrite, ApiScope::ReportsRead]);
        assert_eq!(ApiScope::join(&s), "interactions:write,reports:read");
        let err = ApiScope::parse_list("reports:read,admin:all").expect_err("unknown");
        assert!(
            err.contains("admin:all") && err.contains("export:read"),
            "{err}"
        );
        assert!(ApiScope::parse_list(" , ").is_err());
    }

    #[test]
    fn a_key_without_departments_sees_every_department() {
        let g = Grant {
            name: "crm".into(),
            key_id: "k".into(),
            scopes: vec![ApiScope::ReportsRead],
            departments: Vec::new(),
        };
        assert_eq!(g.scope(), Scope::All);
        assert!(g.allows(ApiScope::ReportsRead) && !g.allows(ApiScope::FollowupsRead));
        let d = Grant {
            name: "crm".into(),
            departments: vec!["hr".into()],
            ..g
        };
        assert!(d.scope().allows("hr") && !d.scope().allows("it"));
    }
}
