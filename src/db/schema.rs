// Written by hand to match both migration folders; only types both backends share.

diesel::table! {
    departments (code) {
        code -> Text,
        name -> Text,
        names_i18n -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    services (code) {
        code -> Text,
        department_code -> Text,
        name -> Text,
        names_i18n -> Text,
        sla_days -> Integer,
        audience -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        active -> Bool,
    }
}

diesel::table! {
    api_keys (id) {
        id -> Text,
        name -> Text,
        key_hash -> Text,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        scopes -> Text,
        departments -> Text,
        last_used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    surveys (id) {
        id -> Text,
        survey_key -> Text,
        version -> Integer,
        audience -> Text,
        definition -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    interactions (id) {
        id -> Text,
        external_id -> Text,
        audience -> Text,
        service_code -> Text,
        channel -> Nullable<Text>,
        opened_at -> Nullable<Timestamp>,
        closed_at -> Timestamp,
        resolution -> Nullable<Text>,
        contact_email -> Nullable<Text>,
        contact_phone -> Nullable<Text>,
        contact_name -> Nullable<Text>,
        language -> Text,
        created_at -> Timestamp,
        status -> Text,
        status_reason -> Nullable<Text>,
        contact_email_hash -> Nullable<Text>,
    }
}

diesel::table! {
    invitations (id) {
        id -> Text,
        interaction_id -> Text,
        survey_id -> Text,
        token_hash -> Text,
        language -> Text,
        expires_at -> Timestamp,
        answered_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        answered -> Bool,
        audience -> Text,
        service_code -> Text,
        channel -> Nullable<Text>,
        day -> Text,
    }
}

diesel::table! {
    responses (id) {
        id -> Text,
        invitation_id -> Nullable<Text>,
        survey_id -> Text,
        audience -> Text,
        service_code -> Text,
        channel -> Nullable<Text>,
        language -> Text,
        submitted_at -> Timestamp,
        day -> Text,
        overall -> Nullable<Integer>,
        effort -> Nullable<Integer>,
        nps -> Nullable<Integer>,
        resolved -> Nullable<Integer>,
        cohort -> Nullable<Text>,
        satisfied -> Nullable<Integer>,
        nps_group -> Nullable<Integer>,
    }
}

diesel::table! {
    answers (response_id, question_id) {
        response_id -> Text,
        question_id -> Text,
        int_value -> Nullable<Integer>,
        text_value -> Nullable<Text>,
    }
}

diesel::table! {
    outbox (id) {
        id -> Text,
        kind -> Text,
        idempotency_key -> Text,
        invitation_id -> Nullable<Text>,
        recipient -> Text,
        message_id -> Text,
        payload -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    contact_keys (hash, interaction_id) {
        hash -> Text,
        interaction_id -> Text,
    }
}

diesel::table! {
    suppressions (address_hash) {
        address_hash -> Text,
        reason -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    campaigns (id) {
        id -> Text,
        name -> Text,
        survey_id -> Text,
        opens_on -> Nullable<Text>,
        closes_on -> Nullable<Text>,
        status -> Text,
        created_at -> Timestamp,
        launched_at -> Nullable<Timestamp>,
        closed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    campaign_recipients (id) {
        id -> Text,
        campaign_id -> Text,
        email -> Nullable<Text>,
        department_code -> Text,
        language -> Text,
        token_hash -> Nullable<Text>,
        expires_at -> Nullable<Timestamp>,
        answered -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    followups (id) {
        id -> Text,
        response_id -> Text,
        department_code -> Text,
        service_code -> Text,
        reason -> Text,
        status -> Text,
        opened_on -> Text,
        due_on -> Text,
        closed_on -> Nullable<Text>,
        contact_name -> Nullable<Text>,
        contact_email -> Nullable<Text>,
        contact_phone -> Nullable<Text>,
        opened_at -> Timestamp,
        updated_at -> Timestamp,
        assignee_id -> Nullable<Text>,
    }
}

diesel::table! {
    followup_notes (id) {
        id -> Text,
        followup_id -> Text,
        status -> Text,
        note -> Text,
        created_at -> Timestamp,
        author_id -> Nullable<Text>,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        email -> Text,
        password_hash -> Text,
        role -> Text,
        departments -> Text,
        language -> Text,
        disabled_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    sessions (id_hash) {
        id_hash -> Text,
        user_id -> Text,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
    }
}

diesel::table! {
    login_failures (subject) {
        subject -> Text,
        failures -> Integer,
        window_start -> Timestamp,
        locked_until -> Nullable<Timestamp>,
    }
}

diesel::table! {
    digest_recipients (id) {
        id -> Text,
        email -> Text,
        language -> Text,
        departments -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    anonymous_inbox (id) {
        id -> Text,
        cohort -> Text,
        month -> Text,
        sealed -> Binary,
    }
}

diesel::joinable!(followup_notes -> followups (followup_id));
diesel::joinable!(sessions -> users (user_id));
diesel::table! {
    audit_log (id) {
        id -> Text,
        at -> Timestamp,
        actor_id -> Nullable<Text>,
        actor -> Text,
        action -> Text,
        target -> Text,
        before_value -> Nullable<Text>,
        after_value -> Nullable<Text>,
        address -> Nullable<Text>,
    }
}

diesel::table! {
    city_settings (name) {
        name -> Text,
        value -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    survey_assignments (audience, target_kind, target_code) {
        audience -> Text,
        target_kind -> Text,
        target_code -> Text,
        survey_key -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    heartbeats (name) {
        name -> Text,
        beat_at -> Timestamp,
    }
}

diesel::joinable!(campaign_recipients -> campaigns (campaign_id));
diesel::joinable!(services -> departments (department_code));
diesel::joinable!(outbox -> invitations (invitation_id));
diesel::joinable!(interactions -> services (service_code));
diesel::joinable!(contact_keys -> interactions (interaction_id));
diesel::joinable!(invitations -> interactions (interaction_id));
diesel::joinable!(invitations -> surveys (survey_id));
diesel::joinable!(responses -> surveys (survey_id));
diesel::joinable!(answers -> responses (response_id));

diesel::allow_tables_to_appear_in_same_query!(
    contact_keys,
    departments,
    services,
    api_keys,
    surveys,
    interactions,
    invitations,
    responses,
    answers,
    outbox,
    suppressions,
    campaigns,
    campaign_recipients,
    followups,
    followup_notes,
    digest_recipients,
    users,
    sessions,
    login_failures,
    anonymous_inbox,
    audit_log,
    city_settings,
    survey_assignments,
    heartbeats,
);
