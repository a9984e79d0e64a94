"""The caller profile: complete, reproducible per seed, distinct between callers, the scenario's context first."""
from __future__ import annotations

from callers.scenario.profile import faker_locale, make_profile, spelled_digits

CONTEXT = {"customer_name": "Jordan Miller", "date_of_birth": "June fourteenth, nineteen eighty-six",
           "account_last4": "4 8 2 1", "card_type": "credit", "amount": "thirty five dollars"}
EVERY_KEY = ("customer_name", "date_of_birth", "member_number", "account_number", "customer_id", "card_last4",
             "postcode", "address", "phone", "email", "card_type")


def test_a_profile_has_everything_an_agent_may_ask_and_the_context_wins():
    profile = make_profile(CONTEXT, "en-US", seed=7)
    assert all(profile.get(key) for key in EVERY_KEY)
    assert profile.get("customer_name") == "Jordan Miller"  # what the reference bridge checks
    assert profile.get("date_of_birth") == CONTEXT["date_of_birth"]
    assert profile.get("card_last4") == "4 8 2 1" and profile.get("card_type") == "credit"
    assert profile.get("amount") == "thirty five dollars"
    assert profile.get("security_answer") is None  # nobody has what the scenario did not define
    assert make_profile({**CONTEXT, "security_answer": "Rex"}, "en-US", 7).get("security_answer") == "Rex"
    assert "jordan.miller" in profile.get("email")


def test_the_same_seed_gives_the_same_caller_and_callers_of_a_run_differ():
    assert make_profile(CONTEXT, "en-US", 3) == make_profile(CONTEXT, "en-US", 3)
    profiles = [make_profile({}, "en-US", seed) for seed in range(200)]
    for key in ("member_number", "account_number", "customer_id"):
        assert len({profile.get(key) for profile in profiles}) == 200, key
    assert len({profile.get("customer_name") for profile in profiles}) > 150
    assert make_profile({}, "en-US", None) != make_profile({}, "en-US", None)


def test_numbers_are_read_digit_by_digit_and_the_locale_follows_the_language():
    profile = make_profile({}, "en-US", 11)
    assert all(len(part) == 1 for part in profile.get("member_number").split())
    assert spelled_digits("SW1A 48210") == "SW1A 4 8 2 1 0"
    assert faker_locale("es-ES") == "es_ES" and faker_locale("en-GB") == "en_GB"
    assert faker_locale("xx-YY") == "en_US"
    assert make_profile({}, "es-ES", 11).get("address") != profile.get("address")
