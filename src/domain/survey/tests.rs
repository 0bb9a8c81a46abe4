use super::answers::parse_one;
use super::*;

fn def() -> SurveyDefinition {
    SurveyDefinition::from_json(RESIDENT_DEFAULT).expect("the default survey is valid")
}

#[test]
fn a_questionnaire_stored_before_measures_were_declared_reads_as_declaring_them() {
    let mut legacy: serde_json::Value = serde_json::from_str(RESIDENT_DEFAULT).expect("json");
    for q in legacy["questions"].as_array_mut().expect("questions") {
        q.as_object_mut().expect("question").remove("measures");
    }
    let read = SurveyDefinition::from_json(&legacy.to_string()).expect("valid");
    assert_eq!(read, def());
    let id = |m| read.measuring(m).map(|q| q.id.as_str());
    assert_eq!(id(Measure::Satisfaction), Some("overall"));
    assert_eq!(id(Measure::Resolution), Some("resolved"));
    assert_eq!(id(Measure::Effort), Some("effort"));
    assert_eq!(id(Measure::Recommendation), None);
}

#[test]
fn a_measure_needs_its_kind_of_question_and_one_question_at_most() {
    let with = |id: &str, m: Measure| {
        let mut d = def();
        for q in &mut d.questions {
            if q.id == id {
                q.measures = Some(m);
            }
        }
        SurveyDefinition::from_json(&d.to_json())
    };
    let err = with("comment", Measure::Satisfaction).expect_err("text cannot be CSAT");
    assert!(err.contains("rating"), "{err}");
    let err = with("professionalism", Measure::Satisfaction).expect_err("two CSATs");
    assert!(err.contains("two questions"), "{err}");
    let err = with("overall", Measure::Effort).expect_err("a 1-5 rating is not CES");
    assert!(err.contains("effort"), "{err}");
    let mut no_resolved_option = def();
    for q in &mut no_resolved_option.questions {
        if q.id == "resolved" {
            q.options[0].value = "fixed".into();
        }
    }
    let err = SurveyDefinition::from_json(&no_resolved_option.to_json())
        .expect_err("resolution needs a resolved option");
    assert!(err.contains("resolved"), "{err}");
}

#[test]
fn an_employee_survey_whose_answers_could_not_be_sealed_at_one_size_is_refused() {
    let def = SurveyDefinition::from_json(EMPLOYEE_DEFAULT).expect("valid");
    assert!(def.max_answer_bytes() <= ANSWERS_BUDGET);
    let mut long = def.clone();
    for q in &mut long.questions {
        if q.kind == QuestionType::Text {
            q.max_length = Some(ANSWERS_BUDGET / 4);
        }
    }
    let err = SurveyDefinition::from_json(&long.to_json()).expect_err("too long to seal");
    assert!(err.contains("max_length"), "{err}");
    // Residents' answers are not sealed: the same texts are fine for them.
    long.audience = Audience::Resident;
    assert!(SurveyDefinition::from_json(&long.to_json()).is_ok());
}

#[test]
fn the_internal_service_survey_asks_overall_effort_timeliness_and_an_optional_comment() {
    let def = SurveyDefinition::from_json(EMPLOYEE_DEFAULT).expect("valid");
    let ids: Vec<(&str, QuestionType, bool)> = def
        .questions
        .iter()
        .map(|q| (q.id.as_str(), q.kind, q.required))
        .collect();
    assert_eq!(
        ids,
        [
            ("overall", QuestionType::Rating, true),
            ("effort", QuestionType::Effort, false),
            ("timeliness", QuestionType::Rating, false),
            ("comment", QuestionType::Text, false),
        ]
    );
    assert_eq!(def.audience, Audience::Employee);
}

fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn the_default_resident_survey_is_short_and_starts_with_required_overall_satisfaction() {
    let d = def();
    assert!(d.questions.len() <= 6);
    assert_eq!(d.questions[0].id, "overall");
    assert!(d.questions[0].required);
    assert_eq!(d.questions[0].kind, QuestionType::Rating);
    assert!(d.questions.iter().any(|q| q.kind == QuestionType::Effort));
    assert!(d.questions.iter().any(|q| q.id == "contact_consent"));
    let comment = d.questions.iter().find(|q| q.kind == QuestionType::Text);
    assert_eq!(comment.and_then(|q| q.max_length), Some(2000));
    assert!(!d.questions.iter().any(|q| q.kind == QuestionType::Nps));
}

#[test]
fn a_full_answer_parses_and_unknown_fields_are_ignored() {
    let answers = parse_answers(
        &def(),
        &form(&[
            ("overall", "4"),
            ("resolved", "partially"),
            ("effort", "7"),
            ("professionalism", "1"),
            ("comment", "  תודה\r\nרבה  "),
            ("contact_consent", "yes"),
            ("evil", "<script>"),
        ]),
    )
    .expect("valid");
    assert_eq!(answers.len(), 6);
    assert_eq!(answers[0].value, AnswerValue::Int(4));
    assert_eq!(answers[4].value, AnswerValue::Text("תודה\nרבה".into()));
    assert_eq!(answers[5].value, AnswerValue::Int(1));
}

#[test]
fn the_overall_question_is_required_and_optional_ones_may_be_empty() {
    let problems = parse_answers(&def(), &form(&[("comment", "")])).expect_err("invalid");
    assert_eq!(
        problems,
        vec![("overall".to_string(), AnswerProblem::Required)]
    );
    let answers = parse_answers(&def(), &form(&[("overall", "1")])).expect("valid");
    assert_eq!(answers.len(), 1);
}

#[test]
fn out_of_range_repeated_unknown_and_overlong_answers_are_each_named() {
    let long = "א".repeat(2001);
    let problems = parse_answers(
        &def(),
        &form(&[
            ("overall", "6"),
            ("effort", "3"),
            ("effort", "4"),
            ("resolved", "maybe"),
            ("professionalism", "1.5"),
            ("comment", &long),
            ("contact_consent", "perhaps"),
        ]),
    )
    .expect_err("invalid");
    let got: Vec<_> = problems.iter().map(|(q, p)| (q.as_str(), *p)).collect();
    assert_eq!(
        got,
        vec![
            ("overall", AnswerProblem::Invalid),
            ("resolved", AnswerProblem::Invalid),
            ("effort", AnswerProblem::Repeated),
            ("professionalism", AnswerProblem::Invalid),
            ("comment", AnswerProblem::TooLong),
            ("contact_consent", AnswerProblem::Invalid),
        ]
    );
}

#[test]
fn exactly_2000_characters_are_accepted_and_control_characters_dropped() {
    let text = format!("{}\u{0}", "ب".repeat(2000));
    let answers =
        parse_answers(&def(), &form(&[("overall", "5"), ("comment", &text)])).expect("valid");
    assert_eq!(answers[1].value, AnswerValue::Text("ب".repeat(2000)));
}

#[test]
fn every_scale_point_is_accepted_and_its_neighbours_refused() {
    for kind in [
        QuestionType::Rating,
        QuestionType::Nps,
        QuestionType::Effort,
    ] {
        let range = kind.scale().expect("a scale");
        let mut q = def().questions[0].clone();
        q.kind = kind;
        for n in range.clone() {
            assert_eq!(
                parse_one(&q, &[&n.to_string()]),
                Ok(Some(AnswerValue::Int(n)))
            );
        }
        for n in [range.start() - 1, range.end() + 1] {
            assert_eq!(
                parse_one(&q, &[&n.to_string()]),
                Err(AnswerProblem::Invalid)
            );
        }
    }
}

#[test]
fn malformed_definitions_are_refused() {
    let mut d = def();
    d.questions[1].id = d.questions[0].id.clone();
    assert!(SurveyDefinition::from_json(&d.to_json()).is_err());
    let mut d = def();
    d.questions[0].text.remove(&Language::Ru);
    assert!(SurveyDefinition::from_json(&d.to_json()).is_err());
    assert!(SurveyDefinition::from_json("{}").is_err());
}

#[test]
fn the_canonical_json_round_trips() {
    let d = def();
    assert_eq!(SurveyDefinition::from_json(&d.to_json()).expect("valid"), d);
}
