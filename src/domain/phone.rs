//! Phone numbers as one person's key: a CRM writes the same number as `050-123 4567`,
//! `+972 50 1234567` or `972501234567`, and the frequency cap and an opt-out must see one
//! person. Numbers are brought to E.164 (`+972501234567`); a number without a country code is
//! Israeli. Only its keyed hash is kept for matching (see `ServerKey::phone_hash`).

/// Israel's country calling code: the default for numbers written without one.
const HOME_COUNTRY: &str = "972";

/// E.164 digits allow at most 15; fewer than 8 is no subscriber number anywhere.
const MIN_DIGITS: usize = 8;
const MAX_DIGITS: usize = 15;

/// The number in E.164, or None when it cannot be one (too short or long, letters).
pub fn e164(text: &str) -> Option<String> {
    let text = text.trim();
    let (international, rest) = match text.strip_prefix('+') {
        Some(rest) => (true, rest),
        None => match text.strip_prefix("00") {
            Some(rest) => (true, rest),
            None => (false, text),
        },
    };
    if !rest
        .chars()
        .all(|c| c.is_ascii_digit() || " -().".contains(c))
    {
        return None;
    }
    let digits: String = rest.chars().filter(char::is_ascii_digit).collect();
    let full = if international {
        digits
    } else if let Some(national) = digits.strip_prefix('0') {
        // A trunk prefix: 050-1234567, 02-6234567.
        format!("{HOME_COUNTRY}{national}")
    } else if digits.starts_with(HOME_COUNTRY) && digits.len() > 10 {
        // The country code without its plus: 972501234567.
        digits
    } else {
        // Short service numbers (*6220, 106) are not people's numbers; a bare subscriber number
        // is Israeli.
        format!("{HOME_COUNTRY}{digits}")
    };
    // Israel: a trunk zero written after the country code (+972 050…) is dropped.
    let full = match full.strip_prefix("9720") {
        Some(national) => format!("{HOME_COUNTRY}{national}"),
        None => full,
    };
    // A placeholder a CRM fills in (000-0000000, 1111111111) would make everyone one person,
    // whom one opt-out would silence: such numbers are no one's.
    let subscriber = &full[full.len().saturating_sub(7)..];
    let placeholder = subscriber.chars().all(|c| subscriber.starts_with(c));
    let plausible = match full.strip_prefix(HOME_COUNTRY) {
        // Israeli numbers: 8 digits (landlines) or 9 (mobiles), never starting with 0 or 1.
        Some(national) => (8..=9).contains(&national.len()) && !national.starts_with(['0', '1']),
        // No country code starts with 0.
        None => !full.starts_with('0'),
    };
    ((MIN_DIGITS..=MAX_DIGITS).contains(&full.len()) && plausible && !placeholder)
        .then(|| format!("+{full}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_israeli_number_however_it_is_written() {
        for written in [
            "050-1234567",
            "0501234567",
            "050 123 4567",
            "(050) 123-4567",
            "+972 50 123 4567",
            "+972-50-1234567",
            "972501234567",
            "00972501234567",
            "+972 050 1234567",
            " 050.123.4567 ",
        ] {
            assert_eq!(e164(written).as_deref(), Some("+972501234567"), "{written}");
        }
        assert_eq!(e164("02-6234567").as_deref(), Some("+97226234567"));
    }

    #[test]
    fn other_countries_keep_their_code() {
        assert_eq!(e164("+1 (415) 555-0100").as_deref(), Some("+14155550100"));
        assert_eq!(e164("0044 20 7946 0018").as_deref(), Some("+442079460018"));
    }

    #[test]
    fn what_cannot_be_a_number_is_none() {
        for bad in [
            "",
            "+",
            "call me",
            "050-12x4567",
            "123",
            "+1234567890123456",
            "05",
            // Placeholders and impossible numbers: no one's key.
            "000-0000000",
            "0000000000",
            "+0501234567",
            "050-0000000",
            "+972 1234567890",
            "02-123",
        ] {
            assert_eq!(e164(bad), None, "{bad}");
        }
    }
}
