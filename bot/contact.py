"""Contact details: which they are, and the one check for phone numbers and e-mail addresses
that residents' answers and departments' details both go through (phonenumbers and
email-validator), each caller wording the refusal for its own audience."""

from __future__ import annotations

import phonenumbers
from email_validator import EmailNotValidError, validate_email

# A resident's contact details: asked at the end of a request, kept with the resident (not
# the request) and offered again next time.
CONTACT_FIELDS = ("name", "phone", "email")


class InvalidContact(ValueError):
    """Not a phone number or e-mail address that can be used."""


def email_address(text: str) -> str:
    """The address, normalised (lower-case domain); no DNS look-up."""
    try:
        return validate_email(text.strip(), check_deliverability=False).normalized
    except EmailNotValidError:
        raise InvalidContact(text) from None


def phone_number(text: str, *, short_numbers: bool = False) -> phonenumbers.PhoneNumber:
    """A valid number, read as Dutch unless it says otherwise ("+32 …"). Short numbers
    (a municipality's 14 0xx) only where `short_numbers` allows them: a department's, never
    a resident's."""
    try:
        number = phonenumbers.parse(text, "NL")
    except phonenumbers.NumberParseException:
        raise InvalidContact(text) from None
    if phonenumbers.is_valid_number(number) or (
        short_numbers and phonenumbers.is_valid_short_number_for_region(number, "NL")
    ):
        return number
    raise InvalidContact(text)
