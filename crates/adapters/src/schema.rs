//! The tables of spec §7, as diesel sees them on both backends.
//!
//! Money and other exact decimals are declared `Text`: SQLite stores them as canonical text,
//! and MySQL hands a `DECIMAL` column over (and takes one in) as its exact decimal text, so one
//! schema serves both without ever passing through a float (see [`crate::money_sql`]). Flags
//! are MOR's `TINYINT`s, read as `Integer`.

diesel::table! {
    users (id) {
        id -> BigInt,
        username -> Text,
        password -> Text,
        usertype -> Text,
        owner_id -> BigInt,
        balance -> Text,
        blocked -> Integer,
        first_name -> Text,
        last_name -> Text,
        tax_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    conflines (id) {
        id -> BigInt,
        name -> Text,
        value -> Nullable<Text>,
        owner_id -> BigInt,
    }
}

diesel::table! {
    cardgroups (id) {
        id -> BigInt,
        name -> Text,
        description -> Nullable<Text>,
        owner_id -> BigInt,
        price -> Text,
        number_length -> Integer,
        pin_length -> Integer,
        tax_id -> Nullable<BigInt>,
        tell_balance_in_currency -> Text,
        hidden -> Integer,
        image -> Text,
    }
}

diesel::table! {
    cards (id) {
        id -> BigInt,
        cardgroup_id -> BigInt,
        number -> Text,
        pin -> Text,
        balance -> Text,
        sold -> Integer,
        active -> Integer,
        callerid -> Nullable<Text>,
        owner_id -> BigInt,
        first_use -> Nullable<Timestamp>,
        hidden -> Integer,
    }
}

diesel::table! {
    devices (id) {
        id -> BigInt,
        name -> Text,
        user_id -> BigInt,
    }
}

diesel::table! {
    callerids (id) {
        id -> BigInt,
        cli -> Text,
        device_id -> BigInt,
    }
}

diesel::table! {
    providers (id) {
        id -> BigInt,
        name -> Text,
        device_id -> BigInt,
    }
}

diesel::table! {
    currencies (id) {
        id -> BigInt,
        name -> Text,
        full_name -> Text,
        exchange_rate -> Text,
        active -> Integer,
    }
}

diesel::table! {
    taxes (id) {
        id -> BigInt,
        tax1_enabled -> Integer,
        tax2_enabled -> Integer,
        tax3_enabled -> Integer,
        tax4_enabled -> Integer,
        tax1_value -> Text,
        tax2_value -> Text,
        tax3_value -> Text,
        tax4_value -> Text,
        compound_tax -> Integer,
    }
}

diesel::table! {
    payments (id) {
        id -> BigInt,
        paymenttype -> Text,
        amount -> Text,
        currency -> Text,
        gross -> Text,
        date_added -> Timestamp,
        completed -> Integer,
        user_id -> BigInt,
        card -> Integer,
        owner_id -> BigInt,
        tax -> Text,
        description -> Nullable<Text>,
    }
}

diesel::table! {
    actions (id) {
        id -> BigInt,
        user_id -> BigInt,
        date -> Timestamp,
        action -> Text,
        data -> Nullable<Text>,
        data2 -> Nullable<Text>,
        data3 -> Nullable<Text>,
        data4 -> Nullable<Text>,
        target_id -> Nullable<BigInt>,
        target_type -> Text,
    }
}

diesel::table! {
    ccorders (id) {
        id -> BigInt,
        ordertype -> Text,
        email -> Nullable<Text>,
        amount -> Text,
        currency -> Text,
        date_added -> Timestamp,
        completed -> Integer,
        owner_id -> BigInt,
    }
}

diesel::table! {
    cclineitems (id) {
        id -> BigInt,
        ccorder_id -> BigInt,
        cardgroup_id -> BigInt,
        card_id -> BigInt,
        quantity -> Integer,
        price -> Text,
    }
}

diesel::table! {
    idempotency_keys (id) {
        id -> BigInt,
        user_id -> BigInt,
        idempotency_key -> Text,
        fingerprint -> Text,
        body -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(callerids -> devices (device_id));
diesel::joinable!(providers -> devices (device_id));
diesel::allow_tables_to_appear_in_same_query!(
    callerids, devices, providers, cards, payments, users
);
