"""One check for phone numbers and e-mail addresses, for residents and departments alike."""

from __future__ import annotations

import phonenumbers
import pytest

from bot.contact import InvalidContact, email_address, phone_number


@pytest.mark.parametrize(
    ("text", "e164"),
    [
        ("06 12345678", "+31612345678"),
        ("+31 6 1234 5678", "+31612345678"),
        ("020-1234567", "+31201234567"),
        ("+32 470 12 34 56", "+32470123456"),
    ],
)
def test_a_full_number_is_read_as_dutch_unless_it_says_otherwise(text: str, e164: str) -> None:
    number = phone_number(text)
    assert phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) == e164


@pytest.mark.parametrize("text", ["12345", "06 1234", "bel me maar", "", "0612345678901234"])
def test_what_is_no_phone_number_is_refused(text: str) -> None:
    with pytest.raises(InvalidContact):
        phone_number(text)


def test_short_numbers_only_where_allowed() -> None:
    """A department may give a short number (the government's 1400); a resident must be
    reachable on a full one."""
    with pytest.raises(InvalidContact):
        phone_number("1400")
    assert phone_number("1400", short_numbers=True).national_number == 1400


@pytest.mark.parametrize(
    ("text", "normalised"),
    [("Fatima@Example.NL", "Fatima@example.nl"), (" jan@gemeente.nl ", "jan@gemeente.nl")],
)
def test_an_email_address_is_normalised(text: str, normalised: str) -> None:
    assert email_address(text) == normalised


@pytest.mark.parametrize("text", ["fatima@", "geen adres", "a@b", "<script>@x.nl"])
def test_what_is_no_email_address_is_refused(text: str) -> None:
    with pytest.raises(InvalidContact):
        email_address(text)
