//! `GroupsClient`: the live Group Identity API client (SPEC section 7).
