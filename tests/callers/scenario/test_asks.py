"""Reading what an agent's turn asks, worded as different agents word it (callers/scenario/asks.py)."""
from __future__ import annotations

from pathlib import Path

import pytest

from callers.errors import ConfigError
from callers.scenario import asks as asks_module
from callers.scenario.asks import CHOICE, CONFIRM, FIELD, OFFER, PERMISSION, QUESTION, YES_NO, TurnReader, \
    asks_for, load_asks

READER = TurnReader(asks_for("en-US"))


def kinds(text: str) -> list[tuple]:
    return [(ask.kind, ask.fields or ask.options or ask.about) for ask in READER.read(text).asks]


@pytest.mark.parametrize("text, fields", [
    ("Welcome to Harbor Credit Union. To get started, what's your member number?", ("member_number",)),
    ("Thank you. And the postcode on your account?", ("postcode",)),
    ("What's the ZIP code on the account?", ("postcode",)),
    ("could i get your zip code and the last four digits of your card", ("postcode", "card_last4")),
    ("Can I have your customer ID and your date of birth, please?", ("customer_id", "date_of_birth")),
    ("Before I can help, I need to verify your identity. Please tell me your full name and date of birth.",
     ("customer_name", "date_of_birth")),
    ("I still need your date of birth to verify you.", ("date_of_birth",)),
    ("Your date of birth, please.", ("date_of_birth",)),
    ("To continue, please enter or say your 8 digit member number.", ("member_number",)),
    ("Could I start with your account number please?", ("account_number",)),
    ("I just need to verify a few details. What is your mailing address?", ("address",)),
    ("What is the email address on file?", ("email",)),
    ("Is there a good number to call you back on?", ("phone",)),
    ("May I have the last 4 digits of your Social Security number?", ("ssn_last4",)),
    ("Can you read me the long number on the card?", ("full_card_number",)),
    ("Got it. Last thing, what is the name of your first pet?", ("security_answer",)),
    ("How much would you like to borrow?", ("loan_amount",)),
    ("Can I have your phone number or your email?", ("phone",)),  # either will do: the first
    # As a recogniser without punctuation writes them:
    ("thank you and the postcode on your account", ("postcode",)),
    ("and the email address we have for you", ("email",)),
    ("how much would you like to borrow", ("loan_amount",)),
    ("im sorry to hear that how much was the fee", ("amount",)),
    ("your date of birth please", ("date_of_birth",)),
])
def test_questions_for_information_name_the_fields(text, fields):
    assert kinds(text) == [(FIELD, fields)]


@pytest.mark.parametrize("text", [
    "Thanks, your date of birth matches.",
    "We will never ask for your PIN or your full card number.",
    "Your new card will arrive at your home address within five business days.",
    "I've updated the email address on your account.",
    "your member number is on the back of your card",
])
def test_statements_that_mention_a_field_ask_nothing(text):
    assert kinds(text) == []


@pytest.mark.parametrize("text, about", [
    ("Would you like me to cancel the old card and send you a new one?", OFFER),
    ("I can order you a new card. Would you like that?", OFFER),
    ("Would you like to hear about our premium credit card today?", OFFER),
    ("I can send a new card to you if you'd like.", OFFER),
    ("I have you down as Jordan Miller, is that correct?", CONFIRM),
    ("Is it okay if I place you on a brief hold?", PERMISSION),
    ("Are you still there?", QUESTION),
    ("would you like me to cancel the old card and send you a new one", OFFER),
])
def test_yes_no_questions_and_what_they_are_about(text, about):
    assert kinds(text) == [(YES_NO, about)]


@pytest.mark.parametrize("text, options", [
    ("Is that for your everyday account or your savings?", ("everyday account", "savings")),
    ("Thanks, is it debit or credit?", ("debit", "credit")),
    ("Was this a debit card, credit card, or prepaid card?", ("debit card", "credit card", "prepaid card")),
    ("Okay. Which would you prefer, a callback or an email?", ("callback", "email")),
    ("thanks for waiting is this about your checking account or your savings account",
     ("checking account", "savings account")),
])
def test_choices_keep_the_options_as_said(text, options):
    assert kinds(text) == [(CHOICE, options)]


def test_an_unpunctuated_choice_is_still_a_question_with_options():
    [ask] = READER.read("was the card lost stolen or damaged").asks
    assert ask.kind == CHOICE and ask.options[-1] == "damaged" and "stolen" in ask.options[0]


def test_a_yes_or_no_question_is_no_choice():
    assert kinds("Do you want a replacement, yes or no?") == [(YES_NO, OFFER)]


@pytest.mark.parametrize("text, flag", [
    ("Thank you for calling First Example Bank. How can I help you today?", "open"),
    ("Thanks, you're verified. What can I do for you today?", "open"),
    ("What's the reason for your call?", "open"),
    ("Is there anything else I can help you with?", "anything_else"),
    ("Sure, what else can I help you with?", "anything_else"),
    ("sorry could you say that one more time", "reprompt"),
    ("Please hold for a moment while I pull up your details.", "hold"),
    ("Thank you for calling. Goodbye.", "goodbye"),
    ("Thanks for banking with us, have a great day.", "goodbye"),
])
def test_turns_that_invite_reprompt_hold_or_close(text, flag):
    reading = READER.read(text)
    assert getattr(reading, flag), reading
    assert not reading.asks


def test_a_greeting_that_thanks_for_calling_is_no_goodbye():
    reading = READER.read("Thank you for calling Ridge Bank.")
    assert not reading.goodbye and not reading.asks_anything


def test_two_asks_in_one_turn_are_both_kept_in_order():
    reading = READER.read("Great. What's your member number? And would you like a new card sent out?")
    assert [ask.kind for ask in reading.asks] == [FIELD, YES_NO]
    assert reading.fields == ("member_number",)


def test_a_bad_asks_file_names_the_file_table_and_key(tmp_path):
    path = tmp_path / "asks.toml"
    path.write_text('[fields.member_number]\ncues = ["member number"]\nwithold = true\n[turns]\n')
    with pytest.raises(ConfigError) as error:
        load_asks(path)
    message = str(error.value)
    assert str(path) in message and "fields.member_number" in message and "withold" in message
    path.write_text('[fields.x]\ncues = ["x"]\n[turns]\ngoodbye = []\n')
    with pytest.raises(ConfigError, match="turns.*goodbye"):
        load_asks(path)


SPANISH = TurnReader(asks_for("es-ES"))


@pytest.mark.parametrize("plain", [False, True], ids=["punctuated", "unpunctuated"])
@pytest.mark.parametrize("text, kind, detail", [
    ("Bienvenido a Banco Sol. ¿Me dice su número de cliente?", FIELD, ("customer_id",)),
    ("Gracias. ¿Y su código postal?", FIELD, ("postcode",)),
    ("¿Me da su fecha de nacimiento y su correo electrónico, por favor?", FIELD, ("date_of_birth", "email")),
    ("¿Es su tarjeta de débito o de crédito?", CHOICE, ("débito", "crédito")),
    ("¿Quiere que bloquee la tarjeta antigua y le envíe una nueva?", YES_NO, OFFER),
    ("¿Le interesa conocer nuestra tarjeta premium?", YES_NO, OFFER),
    ("Le tengo registrada como Lucía Fernández, ¿es correcto?", YES_NO, CONFIRM),
])
def test_a_spanish_agents_asks_are_read_from_the_spanish_cue_table(text, kind, detail, plain):
    """Spanish questions are told by their marks, or without them (a recogniser's transcript) by the table's
    question words; the words of each kind of ask are data (asks.es.toml)."""
    if plain:
        text = "".join(char for char in text.lower() if char.isalnum() or char.isspace())
    reading = SPANISH.read(text)
    ask = reading.asks[-1]
    assert ask.kind == kind, reading
    assert {FIELD: ask.fields, CHOICE: ask.options, YES_NO: ask.about}[kind] == detail


@pytest.mark.parametrize("text, flag", [
    ("Muy bien, ya está verificado. ¿En qué puedo ayudarle?", "open"),
    ("¿Hay algo más en lo que pueda ayudarle?", "anything_else"),
    ("Un momento, por favor, mientras consulto su cuenta.", "hold"),
    ("Perdone, no le he entendido. ¿Puede repetir?", "reprompt"),
    ("Gracias por llamar a Banco Sol. Adiós.", "goodbye"),
])
def test_a_spanish_agents_invitations_holds_reprompts_and_goodbyes(text, flag):
    reading = SPANISH.read(text)
    assert getattr(reading, flag), reading


def test_an_asks_file_without_its_choice_words_names_the_table(tmp_path):
    english = (Path(asks_module.__file__).with_name("asks.toml")).read_text(encoding="utf-8")
    path = tmp_path / "asks.toml"
    path.write_text(english.replace("[choices]", "[choice_words]"), encoding="utf-8")
    with pytest.raises(ConfigError, match="choices"):
        load_asks(path)
