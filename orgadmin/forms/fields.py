"""Fields and helpers the forms of several areas share: numbers, amounts, email lists, a member
picked by email, names on one line, the type-the-name confirmation, and a posted row id."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from orgadmin.models import Organization, OrgUser

# Rate limits and amounts are stored as 64-bit integers.
INT64_MAX = 2**63 - 1
BULK_INVITE_MAX = 100
# Between the items of a pasted list: new lines, commas, semicolons or spaces.
SEPARATORS = re.compile(r"[\s,;]+")
_EMAIL_IN_BRACKETS = re.compile(r"<([^<>\s]+)>")


def one_line(value: str) -> str:
    """A name as typed, on one line: runs of white space become one space, none at the ends."""
    return " ".join(value.split())


def name_required(value: str, *, thing: str) -> str:
    """`one_line(value)`, refused when nothing is left: "Give the {thing} a name."."""
    name = one_line(value)
    if not name:
        raise ValidationError(f"Give the {thing} a name.")
    return name


def row_id(value: object) -> int | None:
    """A row's id as posted (`item_id=12`): an int for plain ASCII digits within 64 bits, else None.
    `str.isdigit` won't do: it takes "²", which `int` refuses."""
    text = str(value)
    if not (text.isascii() and text.isdigit()):
        return None
    number = int(text)
    return number if number <= INT64_MAX else None


class WholeNumberField(forms.CharField):
    """A whole number ≥ 0, written with or without thousands separators (10,000 or 10 000)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 30)
        super().__init__(**kwargs)
        self.widget.attrs.update({"inputmode": "numeric", "autocomplete": "off"})

    def clean(self, value: Any) -> int | None:
        text = super().clean(value)
        if text in (None, ""):
            return None
        digits = re.sub(r"[,_\s]", "", text)
        if digits.startswith("-") and digits[1:].isdigit():
            raise ValidationError("Enter 0 or more; a limit can't be negative.")
        if not digits.isascii() or not digits.isdigit():
            raise ValidationError("Enter a whole number, like 10,000.")
        number = int(digits)
        if number > INT64_MAX:
            raise ValidationError("This number is too large.")
        return number


class DollarField(forms.CharField):
    """US dollars as typed ($1,234.56), returned in the API's unit: integer cents, exactly."""

    def __init__(self, *, min_cents: int = 0, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 30)
        super().__init__(**kwargs)
        self.min_cents = min_cents
        self.widget.attrs.update({"inputmode": "decimal", "autocomplete": "off"})

    def clean(self, value: Any) -> int | None:
        text = super().clean(value)
        if text in (None, ""):
            return None
        cleaned = re.sub(r"[\s,]", "", text).removeprefix("$").removeprefix("US$")
        try:
            amount = Decimal(cleaned)
        except InvalidOperation:
            raise ValidationError("Enter an amount in dollars, like 1,500 or 99.95.") from None
        if not amount.is_finite() or cleaned.lower().count("e"):
            raise ValidationError("Enter an amount in dollars, like 1,500 or 99.95.")
        if amount < 0:
            raise ValidationError("Enter an amount of $0 or more.")
        cents = amount * 100
        if cents != cents.to_integral_value():
            raise ValidationError("Use at most two decimals: the smallest unit is one cent.")
        cents_int = int(cents)
        if cents_int < self.min_cents:
            raise ValidationError(f"Enter at least ${Decimal(self.min_cents) / 100:.2f}.")
        if cents_int > INT64_MAX:
            raise ValidationError("This amount is too large.")
        return cents_int


def _emails(text: str) -> list[str]:
    """Email addresses from pasted text: one per line or separated by commas, semicolons or
    spaces; "Ann <ann@example.com>" works too. Order kept, duplicates dropped."""
    found = _EMAIL_IN_BRACKETS.findall(text)
    rest = _EMAIL_IN_BRACKETS.sub(" ", text)
    if found:
        # Names around bracketed addresses ("Ann Lee <ann@…>") are not addresses.
        tokens = [t for t in SEPARATORS.split(rest) if "@" in t]
    else:
        tokens = [t for t in SEPARATORS.split(rest) if t]
    seen: dict[str, str] = {}
    for email in [*found, *tokens]:
        email = email.strip().strip("\"'")
        seen.setdefault(email.lower(), email)
    return list(seen.values())


class EmailListField(forms.CharField):
    """Several email addresses, each checked; the error names the bad ones."""

    def __init__(self, *, max_count: int = BULK_INVITE_MAX, **kwargs: Any) -> None:
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 5, "spellcheck": "false"}))
        super().__init__(**kwargs)
        self.max_count = max_count

    def clean(self, value: Any) -> list[str]:
        text = super().clean(value) or ""
        emails = _emails(text)
        if self.required and not emails:
            raise ValidationError("Enter at least one email address.")
        bad = []
        for email in emails:
            try:
                validate_email(email)
            except ValidationError:
                bad.append(email)
        if bad:
            raise ValidationError(
                "Not valid email addresses: "
                + ", ".join(f"“{b}”" for b in bad[:10])
                + (f" and {len(bad) - 10} more" if len(bad) > 10 else "")
                + "."
            )
        if len(emails) > self.max_count:
            raise ValidationError(f"At most {self.max_count} addresses at a time.")
        return emails


class UserPickField(forms.CharField):
    """An organization member, typed by email (the page suggests matches as you type)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 254)
        kwargs.setdefault("label", "Member")
        super().__init__(**kwargs)
        self.widget.attrs.update({"autocomplete": "off", "spellcheck": "false"})


def user_by_email(org: Organization, value: str) -> OrgUser:
    """The member a `UserPickField` names (by email, or by id); refused when there is none."""
    email = value.strip()
    user = OrgUser.objects.filter(org=org, email__iexact=email).first()
    if user is None:
        user = OrgUser.objects.filter(org=org, openai_id=email).first()
    if user is None:
        raise ValidationError(
            f"No member of the organization has the email “{email}”. Invite them first."
        )
    return user


class TypeToConfirmForm(forms.Form):
    """The person types the thing's name to confirm a destructive action."""

    confirm_name = forms.CharField(label="Type the name to confirm", required=False)

    def __init__(self, *args: Any, expected: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.expected = expected

    def clean_confirm_name(self) -> str:
        typed = self.cleaned_data["confirm_name"].strip()
        if typed != self.expected:
            raise ValidationError(f"Type “{self.expected}” exactly to confirm.")
        return typed
