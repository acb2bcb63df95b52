"""Citizens' phone numbers (`gateway.security.addresses`): E.164 or nothing, and which
of them the deployment serves (`GATEWAY_ALLOWED_COUNTRIES`).

Bhutan's mobiles are +975 17 or 77 followed by six digits.
"""

from __future__ import annotations

import pytest

from gateway.security.addresses import Countries, NotAPhoneNumberError, phone_number

B_MOBILE = "+97517123456"  # B-Mobile
T_CELL = "+97577123456"  # TashiCell
INDIA = "+919812345678"
NIGERIA = "+2348031234567"
INVALID_BT = "+97512345678"  # +975 and the right length, but no operator's range


@pytest.mark.parametrize("raw", ["+97517123456", "97517123456", " +97517123456 "])
def test_a_number_with_or_without_plus_is_read_as_e164(raw: str) -> None:
    number = phone_number(raw)
    assert number.e164 == B_MOBILE
    assert number.region == "BT"
    assert number.calling_code == 975


def test_both_bhutanese_mobile_operators_are_bhutan() -> None:
    assert phone_number(B_MOBILE).region == "BT"
    assert phone_number(T_CELL).region == "BT"


def test_whatsapp_digits_are_the_same_number_as_e164() -> None:
    assert phone_number("97577123456") == phone_number(T_CELL)


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "web:abc",
        "telegram:97517123456",
        "tel:+97517123456",
        "hello",
        "+",
        "+975",  # a country code alone
        "123",  # too short
        "+1",
        "+0123456789",  # no country code starts with 0
        "+9751712345678901234",  # too long for E.164
        "+97517123456" + "9" * 12,  # over 20 characters
    ],
)
def test_junk_is_not_a_phone_number(raw: str) -> None:
    with pytest.raises(NotAPhoneNumberError):
        phone_number(raw)


def test_not_a_phone_number_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="not a"):
        phone_number("web:abc")


def test_a_possible_number_no_operator_serves_has_no_region() -> None:
    number = phone_number(INVALID_BT)
    assert number.e164 == INVALID_BT
    assert number.region == ""
    assert number.country == "+975"  # budgets count it under its calling code


def test_a_foreign_number_has_its_own_region() -> None:
    assert phone_number(INDIA).region == "IN"
    assert phone_number(NIGERIA).region == "NG"
    assert phone_number(INDIA).country == "IN"


def test_the_range_is_the_number_without_its_last_digits() -> None:
    number = phone_number(B_MOBILE)
    assert number.range(4) == "+9751712"
    assert number.range(2) == "+975171234"
    assert phone_number("+97517129999").range(4) == number.range(4)
    assert phone_number("+97517130000").range(4) != number.range(4)


def test_countries_are_upper_cased() -> None:
    assert Countries.of(["bt", "In"]).codes == frozenset({"BT", "IN"})


def test_bhutan_serves_bhutanese_numbers_only() -> None:
    bhutan = Countries.of(["BT"])
    assert bhutan.serve(phone_number(B_MOBILE))
    assert bhutan.serve(phone_number(T_CELL))
    assert not bhutan.serve(phone_number(INDIA))
    assert not bhutan.serve(phone_number(INVALID_BT))


def test_several_countries_serve_each_of_them() -> None:
    countries = Countries.of(["BT", "IN"])
    assert countries.serve(phone_number(INDIA))
    assert not countries.serve(phone_number(NIGERIA))


def test_a_star_serves_every_country() -> None:
    everyone = Countries.of(["*"])
    for raw in (B_MOBILE, INDIA, NIGERIA):
        assert everyone.serve(phone_number(raw))


@pytest.mark.parametrize("address", ["web:3f2a9c", "telegram:123456789", "web:x"])
def test_channel_user_ids_are_served(address: str) -> None:
    assert Countries.of(["BT"]).serves_address(address)


def test_a_bhutanese_address_is_served() -> None:
    assert Countries.of(["BT"]).serves_address(B_MOBILE)


@pytest.mark.parametrize("address", [INDIA, NIGERIA, INVALID_BT, "+975", "+12", "+web:x"])
def test_a_foreign_or_invalid_number_is_not_served(address: str) -> None:
    assert not Countries.of(["BT"]).serves_address(address)


def test_a_star_serves_any_foreign_address_but_not_junk() -> None:
    everyone = Countries.of(["*"])
    assert everyone.serves_address(INDIA)
    assert everyone.serves_address("web:x")
    assert not everyone.serves_address("+975")  # not a number, whatever the countries
