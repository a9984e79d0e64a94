"""Who the caller is: every detail an agent may ask for, consistent within a call and reproducible per seed.

A scenario's context names what the test is about (the name and date of birth an agent checks, the card,
the amounts); anything else an agent may ask for (a member number, a postcode, an email) is generated here
from the caller's seed with Faker in the scenario's language, so another bank's flow can be answered. The
context always wins: a key it sets is the profile's value. Numbers come from the seed through a bijection,
so callers of one run (seed, seed + 1, ...) never share a member, account or customer number unless the
scenario's context gives them one. Digits are spelled one by one ("4 8 2 1"), as people read them out.

Faker is imported, and its English data loaded, with this module (a third of a second): at start-up, before
callers.runtime.warmup readies the process for real time, never inside the first call, where it would stall
every other caller's audio. `prepare_profiles` loads other languages' data the same way.
"""
from __future__ import annotations

import random
import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Iterable, Optional

from faker import Faker
from faker.config import AVAILABLE_LOCALES

# Numbers a seed maps to one-to-one: (seed * multiplier + offset) mod 10^digits with the multiplier prime to
# 10, so two seeds below 10^digits never give the same number.
NUMBERS: dict[str, tuple[int, int, int]] = {  # key: (digits, multiplier, offset)
    "member_number": (8, 48271, 31415926),
    "account_number": (10, 69621, 2718281828),
    "customer_id": (9, 40692, 161803398),
}
DEFAULT_LOCALE = "en_US"
CARD_TYPE = "debit"
_FAKER_LOCK = threading.Lock()


@dataclass(frozen=True)
class CallerProfile:
    """The caller's details as it would say them; `get` is None for what it does not know."""

    values: dict[str, str]

    def get(self, key: str) -> Optional[str]:
        value = self.values.get(key)
        return value if value else None


def spelled_digits(text: str) -> str:
    """ "SW1A 48210" -> "SW1A 4 8 2 1 0": digits read one by one, as people read numbers out."""
    return re.sub(r"(?<=\d)(?=\d)", " ", text)


def _number(key: str, seed: int) -> str:
    digits, multiplier, offset = NUMBERS[key]
    value = (seed * multiplier + offset) % (10 ** digits)
    return " ".join(f"{value:0{digits}d}")


def faker_locale(language: str) -> str:
    """ "es-ES" -> "es_ES"; a language Faker has no locale for gets English data."""
    locale = language.replace("-", "_")
    if locale in AVAILABLE_LOCALES:
        return locale
    base = locale.split("_")[0]
    return next((known for known in sorted(AVAILABLE_LOCALES) if known.split("_")[0] == base), DEFAULT_LOCALE)


@lru_cache(maxsize=8)
def _faker(locale: str) -> Any:
    return Faker(locale)


def prepare_profiles(languages: Iterable[str]) -> None:
    """Load the data of the languages a run's callers will speak, before its first call."""
    for language in languages:
        _faker(faker_locale(language))


prepare_profiles([DEFAULT_LOCALE])


def make_profile(context: dict[str, Any], language: str, seed: Optional[int]) -> CallerProfile:
    """The profile of one caller: generated from `seed` (random without one), the context laid over it."""
    if seed is None:
        seed = random.SystemRandom().randrange(10 ** 8)
    with _FAKER_LOCK:  # one Faker per locale is shared; seeding and drawing must not interleave between threads
        fake = _faker(faker_locale(language))
        fake.seed_instance(seed)
        name = str(context.get("customer_name") or fake.name())
        values = {
            "customer_name": name,
            "date_of_birth": fake.date_of_birth(minimum_age=20, maximum_age=85).strftime("%B %-d, %Y"),
            "postcode": spelled_digits(fake.postcode()),
            "address": fake.street_address(),
            "phone": " ".join(char for char in fake.phone_number().split("x")[0] if char.isdigit()),
            "email": _email(name, fake.free_email_domain(), seed),
            "card_last4": " ".join(f"{seed * 7919 % 10000:04d}"),
            "ssn_last4": " ".join(f"{seed * 6007 % 10000:04d}"),
        }
    values.update({key: _number(key, seed) for key in NUMBERS})
    values["card_type"] = CARD_TYPE
    values.update({key: str(value) for key, value in context.items() if value not in (None, "")})
    if "account_last4" in context and "card_last4" not in context:
        values["card_last4"] = str(context["account_last4"])
    return CallerProfile(values)


def _email(name: str, domain: str, seed: int) -> str:
    letters = [part for part in "".join(c if c.isalpha() or c == " " else " " for c in name.lower()).split()]
    local = ".".join(letters[:2]) or "caller"
    return f"{local}{seed % 100} at {domain}"
