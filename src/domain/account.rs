//! The people who manage: their roles, what each may see (a [`Scope`]), and the password rule.

use std::fmt;

use super::language::Language;
use super::secret::Secret;

/// What a management user may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Everything, every department.
    Admin,
    /// Reads and acts on cases in their departments.
    Manager,
    /// Reads their departments; changes nothing.
    Viewer,
}

impl Role {
    pub fn parse(text: &str) -> Option<Role> {
        Some(match text {
            "admin" => Role::Admin,
            "manager" => Role::Manager,
            "viewer" => Role::Viewer,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Manager => "manager",
            Role::Viewer => "viewer",
        }
    }

    /// Whether this role may change anything (cases, notes).
    pub fn may_act(self) -> bool {
        !matches!(self, Role::Viewer)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The departments a caller may see. Passed into every service and query that reads or writes
/// department data, so that forgetting it does not compile. `Departments` is never empty: a
/// scope of no department would read as "no restriction" in a filter that skips empty lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    All,
    Departments(Vec<String>),
}

impl Scope {
    /// The scope of a role over its departments; `None` for a manager or viewer without any.
    pub fn of(role: Role, departments: &[String]) -> Option<Scope> {
        match role {
            Role::Admin => Some(Scope::All),
            _ if departments.is_empty() => None,
            _ => Some(Scope::Departments(departments.to_vec())),
        }
    }

    pub fn allows(&self, department: &str) -> bool {
        match self {
            Scope::All => true,
            Scope::Departments(d) => d.iter().any(|x| x == department),
        }
    }

    /// The departments as a filter list: empty for all (the reports' convention).
    pub fn as_filter(&self) -> Vec<String> {
        match self {
            Scope::All => Vec::new(),
            Scope::Departments(d) => d.clone(),
        }
    }
}

/// Parses a comma-separated department list (`a,b`), trimmed, without empty or repeated codes.
pub fn parse_departments(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for code in text.split(',').map(str::trim).filter(|c| !c.is_empty()) {
        if !out.iter().any(|c| c == code) {
            out.push(code.to_string());
        }
    }
    out
}

/// The shortest password accepted (NIST SP 800-63B asks for at least 8; a city's managers read
/// residents' contact details, so 12).
pub const MIN_PASSWORD_CHARS: usize = 12;
/// The longest: argon2 would hash more, but nobody types it and it bounds the work per try.
pub const MAX_PASSWORD_CHARS: usize = 256;

/// A password that meets the rule; its `Debug` never shows it.
#[derive(Debug, Clone)]
pub struct NewPassword(Secret<String>);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PasswordProblem {
    #[error("a password needs at least {MIN_PASSWORD_CHARS} characters")]
    TooShort,
    #[error("a password may have at most {MAX_PASSWORD_CHARS} characters")]
    TooLong,
}

impl NewPassword {
    pub fn parse(text: String) -> Result<NewPassword, PasswordProblem> {
        let n = text.chars().count();
        if n < MIN_PASSWORD_CHARS || text.trim().chars().count() < MIN_PASSWORD_CHARS {
            return Err(PasswordProblem::TooShort);
        }
        if n > MAX_PASSWORD_CHARS {
            return Err(PasswordProblem::TooLong);
        }
        Ok(NewPassword(Secret::new(text)))
    }

    pub fn expose(&self) -> &str {
        self.0.expose()
    }
}

/// A management user's sign-in address: trimmed, lower-cased, and shaped like an address.
pub fn normalize_email(text: &str) -> Option<String> {
    let email = text.trim().to_lowercase();
    let (local, domain) = email.split_once('@')?;
    let ok = !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && !domain.contains('@');
    ok.then_some(email)
}

/// A user as the web app knows them once signed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: String,
    pub email: String,
    pub role: Role,
    pub scope: Scope,
    pub language: Language,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_admin_sees_all_and_others_only_their_departments() {
        assert_eq!(Scope::of(Role::Admin, &[]), Some(Scope::All));
        let d = vec!["hr".to_string()];
        let scope = Scope::of(Role::Manager, &d).expect("scoped");
        assert!(scope.allows("hr") && !scope.allows("it"));
        assert_eq!(Scope::of(Role::Viewer, &[]), None);
        assert_eq!(scope.as_filter(), d);
        assert!(Scope::All.as_filter().is_empty());
    }

    #[test]
    fn passwords_need_twelve_characters_not_counting_surrounding_spaces() {
        assert_eq!(
            NewPassword::parse("short".into()).err(),
            Some(PasswordProblem::TooShort)
        );
        assert_eq!(
            NewPassword::parse("   eleven11   ".into()).err(),
            Some(PasswordProblem::TooShort)
        );
        assert!(NewPassword::parse("סיסמה-ארוכה-מאוד".into()).is_ok());
        assert_eq!(
            NewPassword::parse("x".repeat(257)).err(),
            Some(PasswordProblem::TooLong)
        );
        let p = NewPassword::parse("correct horse battery".into()).expect("ok");
        assert!(!format!("{p:?}").contains("horse"));
    }

    #[test]
    fn addresses_are_lower_cased_and_checked() {
        assert_eq!(
            normalize_email("  Dana@City.Example "),
            Some("dana@city.example".into())
        );
        for bad in [
            "",
            "dana",
            "@city.example",
            "dana@city",
            "a b@c.d",
            "a@b@c.d",
        ] {
            assert_eq!(normalize_email(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn department_lists_are_trimmed_and_deduplicated() {
        assert_eq!(parse_departments(" hr, it,,hr "), vec!["hr", "it"]);
        assert!(parse_departments("").is_empty());
    }

    #[test]
    fn only_a_viewer_may_not_act() {
        assert!(Role::Admin.may_act() && Role::Manager.may_act() && !Role::Viewer.may_act());
        for r in [Role::Admin, Role::Manager, Role::Viewer] {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
    }
}
