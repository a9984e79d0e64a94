"""The First Example Bank agent's conversation policy: what it says next, given what it heard.

Pure (text in, reply out, no I/O, no clock, no randomness), so every flow is unit-testable and a call is
reproducible. Everything the agent can say is a fixed sentence from a finite set (`agent_phrases`): the
callers' goal trackers match those sentences, the server can pre-render all of them, and the speech
benchmark can measure hearing accuracy on exactly the agent's vocabulary.

Recognition is imperfect, so understanding is keyword-based on normalised text (lowercase, no
punctuation, apostrophes dropped, numbers as words or digits), with word stems for inflections and weak /
strong keywords so one misheard word does not hijack a call. Answers are delivered one fact per turn from
an agenda, which keeps each agent turn a few seconds long and lets an interrupted fact be said again.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from typing import Optional

BANK_NAME = "First Example Bank"

# ---- what the agent says ---------------------------------------------------------------------------------

GREETING = f"Thank you for calling {BANK_NAME}. How can I help you today?"
REPROMPT = "I'm sorry, I didn't catch that. Could you tell me what you need help with?"
ASK_IDENTITY = ("Before I can help, I need to verify your identity. "
                "Please tell me your full name and date of birth.")
ASK_IDENTITY_AGAIN = "I still need your date of birth to verify you."
# With keypad identity (bridge --keypad-identity): the date of birth keyed as DTMF digits; a spoken answer
# is still accepted, as on a real IVR that listens while it waits for keys.
ASK_IDENTITY_KEYPAD = ("Before I can help, I need to verify your identity. Please key in your date of birth "
                       "on your keypad, as eight digits.")
VERIFIED = "Thank you, you're verified."
TRANSFER = "I'm transferring you to an agent who can help."
REASSURE = (f"I understand your caution. I'm {BANK_NAME}'s virtual assistant. I will never ask for your PIN "
            "or your full card number; you can also hang up and call the number on the back of your card.")
ANYTHING_ELSE = "Is there anything else I can help you with?"
WHAT_ELSE = "Sure, what else can I help you with?"
GOODBYE = f"Thank you for calling {BANK_NAME}. Goodbye."

# The pending question repeated after reassuring a suspicious caller, by state.
_HOW_CAN_I_HELP = "How can I help you today?"
_NAME_AND_BIRTH = "Please tell me your full name and date of birth."

CARD_KINDS = ("debit", "credit")
CARD_ORDERED = "I've blocked your old {kind} card and ordered a replacement card."
CARD_DELIVERY = "Your new card will be delivered to your address on file within five to seven business days."
CARD_EXPEDITE = "I've marked your new card as urgent, so it should arrive within two to three business days."
BALANCE = "Your current balance is two thousand four hundred and twelve dollars."
TRANSACTIONS = ("Your most recent transactions are a payment of forty two dollars to Green Grocer on Monday "
                "and a transfer of two hundred dollars to savings on Friday.")
LOAN_OPTIONS = ("We offer personal loans, auto loans and home improvement loans, "
                "with rates from six point nine percent.")
LOAN_REQUIREMENTS = "To apply you will need a photo ID, proof of income and your last two bank statements."
LOAN_APPLICATION = "I've started an application for you; your reference number is four five seven one."
LOAN_RATE = "Our rates start from six point nine percent; the exact rate depends on the loan and your credit history."
LOAN_REFERENCE = "Your application reference number is four five seven one."
COMPLAINT_LOGGED = "I'm sorry about that. I've logged your complaint about {topic}."
RESOLUTION_REFUND = ("I've refunded the fee, and a specialist will review your account "
                     "and call you within two business days.")
RESOLUTION_REVIEW = "A specialist will review your account and call you within two business days."
REFUND_TIMING = "The refund will appear on your account within two business days."
HOURS = "Our branches are open Monday to Friday nine to five, and Saturday nine to one."
SERVICES = "We offer checking and savings accounts, credit cards, loans and online banking."

# A fact joins the "anything else?" question in one turn only while the turn stays this short (~9 s of
# speech at 175 wpm); a longer fact is said alone and the question waits for the caller's next turn.
MAX_TURN_WORDS = 28
# Identity answers without a date of birth before the caller is handed to a human.
MAX_IDENTITY_FAILURES = 3

# ---- what the agent understands ----------------------------------------------------------------------

CARD = "card_replacement"
ACCOUNT = "account_inquiry"
LOAN = "loan_application"
COMPLAINT = "complaint"
GENERAL = "general_inquiry"
SCENARIO_TYPES = (CARD, ACCOUNT, LOAN, COMPLAINT, GENERAL)
DEFAULT_SCENARIO = GENERAL
NEEDS_IDENTITY = frozenset({CARD, ACCOUNT, COMPLAINT})
# Ties in keyword score go to the earlier intent: a complaint that mentions a card is still a complaint.
_INTENT_PRIORITY = (COMPLAINT, CARD, ACCOUNT, LOAN, GENERAL)

# Keywords match normalised tokens; a trailing "*" matches a stem, a space makes a phrase. Strong keywords
# name the topic on their own; weak ones only add evidence.
_STRONG_WEIGHT = 2
_WEAK_WEIGHT = 1
_INTENT_KEYWORDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    CARD: (("card", "cards", "replac*"),
           ("lost", "lose", "stolen", "stole", "damaged", "broken", "expired", "chip", "debit", "credit")),
    ACCOUNT: (("balance*", "transaction*", "statement*", "deposit*", "withdraw*"),
              ("account*", "charge", "charges", "spent", "spending", "money", "recent", "activity")),
    # "alone": how the bundled recognizer usually hears "a loan" / "personal loan" in synthetic speech.
    LOAN: (("loan*", "borrow*", "mortgage*", "financ*", "lend*"),
           ("apply", "application", "rate", "rates", "interest", "alone")),
    COMPLAINT: (("complain*", "refund*", "overcharg*", "unhappy", "dispute*", "reimburs*", "unacceptable"),
                ("fee", "fees", "charged", "overdraft", "wrong", "upset", "angry", "unfair", "terrible",
                 "ridiculous", "frustrat*", "mistake", "revers*", "not happy")),
    GENERAL: (("hours", "services", "branch*", "open", "opening", "policy", "policies", "location*",
               "offer", "products"),
              ("close", "closing", "weekend", "saturday", "sunday", "holiday*", "information", "general")),
}
# A new topic mid-call needs a strong keyword; only the opening request may rest on weak evidence.
_OPENING_MIN_SCORE = _WEAK_WEIGHT
_SWITCH_MIN_SCORE = _STRONG_WEIGHT

_SUSPICIOUS = ("how do i know", "how can i know", "how can i be sure", "prove", "really the bank",
               "really from the bank", "scam*", "is this really", "is this a real", "are you real",
               "legit*", "phishing", "trust you")
_GOODBYE = ("goodbye", "bye", "thats all", "that is all", "nothing else", "thats everything",
            "that is everything", "that will be all")
_REPEAT = ("repeat", "say that again", "what was that", "pardon", "come again", "didnt catch", "didnt hear",
           "slow down")
_DECLINE = ("no", "nope", "nothing", "im good", "all set", "im done", "not really", "were done")
_THANKS = ("thanks", "thank you", "thank")
_YES = ("yes", "yeah", "yep", "sure", "please")
_ACKNOWLEDGE = ("okay", "ok", "great", "alright", "all right", "perfect", "fine", "got it", "sounds good",
                "good", "cool", "wonderful", "understood", "hold on", "wait")

_CREDIT = ("credit",)
_ACCOUNT_BALANCE = ("balance*", "how much")
_ACCOUNT_TRANSACTIONS = ("transaction*", "statement*", "charge*", "spent", "spending", "recent", "activity",
                         "payment*", "deposit*", "withdraw*")
_GENERAL_HOURS = ("hours", "open*", "close", "closing", "weekend", "saturday", "sunday", "holiday*", "when",
                  "time")
_GENERAL_SERVICES = ("services", "offer*", "products", "policy", "policies", "accounts")

# Complaint topics, first match wins; the ones that are fees get a refund.
_COMPLAINT_TOPICS: tuple[tuple[tuple[str, ...], str, bool], ...] = (
    (("overdraft*",), "the overdraft fee", True),
    (("atm", "cash machine"), "the ATM fee", True),
    (("late",), "the late payment fee", True),
    (("monthly", "maintenance"), "the monthly maintenance fee", True),
    (("foreign", "international", "exchange"), "the foreign transaction fee", True),
    (("fee", "fees", "charge*", "overcharg*", "refund*"), "the fee on your account", True),
    (("service", "staff", "rude", "wait*", "branch*", "queue"), "the service you received", False),
)
_DEFAULT_TOPIC = ("your account", False)

# Follow-up questions about something the bank already did, answered from the same facts.
# "when" alone: recognisers garble the rest ("when will it arrive" -> "when we'll derive").
_FOLLOW_DELIVERY = ("arriv*", "deliver*", "when", "how long", "ship*", "mail*", "receive", "get it")
_FOLLOW_EXPEDITE = ("expedit*", "faster", "sooner", "rush*", "urgent*", "quick*", "express", "speed")
_FOLLOW_RATE = ("rate", "rates", "interest", "apr", "percent*")
_FOLLOW_REQUIREMENTS = ("documents", "require*", "bring", "paperwork", "need to apply", "what do i need")
_FOLLOW_REFERENCE = ("reference", "number")
_FOLLOW_RESOLUTION = ("fee", "fees", "refund*", "money back", "charge*", "reimburs*", "fix", "resolv*",
                      "what are you going to do", "what will you do")

# Identity: a date-of-birth-like answer, forgiving of how a recogniser writes it.
_MONTHS = ("january", "february", "march", "april", "june", "july", "august", "september", "sept",
           "october", "november", "december")
_AMBIGUOUS_MONTHS = ("may",)  # also a verb: counts only next to a number
_NUMBER_WORDS = frozenset(
    "zero oh one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred "
    "thousand first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth "
    "thirteenth fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth twentieth thirtieth".split())
_YEAR_DIGITS = re.compile(r"\b(1[89]|20)\d\d\b|\d{6,}")
_YEAR_WORDS = re.compile(r"\bnineteen (oh|ten|eleven|twelve|\w+teen|twenty|thirty|forty|fifty|sixty|seventy|"
                         r"eighty|ninety)\b|\btwo thousand\b")
_MIN_DATE_NUMBERS = 3

# What a caller is assumed to have said when the bridge runs without an ear (capacity runs).
EXPECTED_REQUEST = {
    CARD: "I lost my debit card and I need a replacement card.",
    ACCOUNT: "I'd like to check my balance and my recent transactions.",
    LOAN: "I'm interested in a personal loan.",
    COMPLAINT: "I want to complain about an overdraft fee.",
    GENERAL: "What are your opening hours and what services do you offer?",
}
EXPECTED_IDENTITY = "My name is Alex Morgan and I was born on March third nineteen eighty."
EXPECTED_CONTINUE = "Okay."
EXPECTED_DONE = "No, that's all, thank you."


class State(str, Enum):
    """Where the conversation stands; recorded per turn in the ground truth."""

    GREETING = "greeting"  # waiting for the caller's request
    IDENTITY = "identity"  # waiting for name and date of birth
    INFORMING = "informing"  # facts still to tell
    WRAP_UP = "wrap_up"  # request done: anything else?
    ENDED = "ended"  # said goodbye or transferring


class Action(str, Enum):
    """What the agent does after its reply has been played."""

    HANGUP = "hangup"
    TRANSFER = "transfer"


@dataclass(frozen=True)
class Reply:
    """One agent turn: the sentences to speak (one playStream), the state after it, and what it did."""

    sentences: tuple[str, ...]
    state: State
    intent: Optional[str]
    action: Optional[Action] = None
    fulfilled: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        return " ".join(self.sentences)


@dataclass(frozen=True)
class _Fact:
    """A sentence on the agenda and the request id it fulfils once spoken."""

    request_id: str
    sentence: str


# ---- text understanding helpers ---------------------------------------------------------------------

def normalize(text: str) -> str:
    """Lowercase words and digits only: "That's my DEBIT card!" -> "thats my debit card"."""
    text = text.lower().replace("'", "").replace("\u2019", "")
    return " ".join(re.findall(r"[a-z0-9]+", text))


class _Utterance:
    """Normalised text with keyword matching; built once per caller turn."""

    def __init__(self, text: str) -> None:
        self.norm = normalize(text)
        self.tokens = self.norm.split()
        self._padded = f" {self.norm} "

    @property
    def empty(self) -> bool:
        return not self.tokens

    def has(self, keyword: str) -> bool:
        if " " in keyword:
            return f" {keyword} " in self._padded
        if keyword.endswith("*"):
            stem = keyword[:-1]
            return any(token.startswith(stem) for token in self.tokens)
        return keyword in self.tokens

    def any(self, keywords: tuple[str, ...]) -> bool:
        return any(self.has(keyword) for keyword in keywords)

    def count(self, keywords: tuple[str, ...]) -> int:
        return sum(1 for keyword in keywords if self.has(keyword))

    def intent(self, min_score: int) -> Optional[str]:
        scores = {}
        for name, (strong, weak) in _INTENT_KEYWORDS.items():
            scores[name] = _STRONG_WEIGHT * self.count(strong) + _WEAK_WEIGHT * self.count(weak)
        best = max(_INTENT_PRIORITY, key=lambda name: (scores[name], -_INTENT_PRIORITY.index(name)))
        return best if scores[best] >= min_score else None

    def gives_date_of_birth(self) -> bool:
        """Tolerant on purpose: any month, "born", a year in digits or words, or a run of numbers."""
        if self.has("born") or self.any(_MONTHS):
            return True
        numbers = sum(1 for token in self.tokens if token.isdigit() or token in _NUMBER_WORDS)
        if self.any(_AMBIGUOUS_MONTHS) and numbers:
            return True
        if _YEAR_DIGITS.search(self.norm) or _YEAR_WORDS.search(self.norm):
            return True
        return numbers >= _MIN_DATE_NUMBERS


def _complaint_topic(utterance: _Utterance) -> tuple[str, bool]:
    for keywords, topic, is_fee in _COMPLAINT_TOPICS:
        if utterance.any(keywords):
            return topic, is_fee
    return _DEFAULT_TOPIC


def _words(sentences: list[str]) -> int:
    return sum(len(sentence.split()) for sentence in sentences)


# ---- the policy ------------------------------------------------------------------------------------------

class BankAgent:
    """One call's conversation with First Example Bank's virtual assistant.

    `scenario_hint` is only used to invent the caller's words when nothing was heard (`expected_caller_text`).
    """

    def __init__(self, scenario_hint: Optional[str] = None, keypad_identity: bool = False) -> None:
        self.scenario_hint = scenario_hint if scenario_hint in SCENARIO_TYPES else DEFAULT_SCENARIO
        self.keypad_identity = keypad_identity
        self.state = State.GREETING
        self.scenario_type: Optional[str] = None  # the first request understood
        self.verified = False
        self.fulfilled: list[str] = []
        self.reprompts = 0
        self.identity_failures = 0
        self.transferred = False
        self._intent: Optional[str] = None
        self._pending: list[_Fact] = []  # the request waiting for identity
        self._agenda: list[_Fact] = []
        self._asked_anything_else = False
        self._refund_given = False
        self._last: Optional[Reply] = None
        self._last_facts: list[_Fact] = []

    @property
    def finished(self) -> bool:
        return self.state is State.ENDED

    def greet(self) -> Reply:
        return self._reply([GREETING])

    def respond(self, text: str) -> Reply:
        """The agent's next turn after the caller said `text` (a transcript, or DTMF digits)."""
        if self.finished:
            raise RuntimeError("the call has ended; no further turns")
        heard = _Utterance(text)
        intent_min = _OPENING_MIN_SCORE if self.state is State.GREETING else _SWITCH_MIN_SCORE
        intent = heard.intent(intent_min)
        if heard.any(_SUSPICIOUS):
            return self._reassure()
        if heard.any(_GOODBYE):
            return self._end(GOODBYE, Action.HANGUP)
        if heard.any(_REPEAT) and intent is None and self._last is not None:
            return self._repeat()
        if self.state is State.IDENTITY:
            return self._check_identity(heard)
        follow_up = self._follow_up(heard, intent)
        if follow_up is not None:
            return self._inform(follow_up, [])
        if intent is not None:
            return self._start_request(intent, heard)
        if self.state is State.WRAP_UP:
            return self._wrap_up(heard)
        if self.state is State.INFORMING:
            return self._inform(self._agenda.pop(0), [])
        self.reprompts += 1
        return self._reply([REPROMPT])

    def interrupted(self) -> None:
        """The caller talked over the last reply: its facts go back on the agenda to be said again."""
        if not self._last_facts:
            return
        self._agenda[:0] = [fact for fact in self._last_facts if fact not in self._agenda]
        self._last_facts = []
        self._last = None  # "say that again" now means the agenda, which holds the unheard facts
        self._asked_anything_else = False
        if self.state is State.WRAP_UP:
            self.state = State.INFORMING

    def expected_caller_text(self) -> str:
        """What a cooperative caller would say now: lets the call advance when nothing can be heard."""
        if self.state is State.GREETING:
            return EXPECTED_REQUEST[self.scenario_hint]
        if self.state is State.IDENTITY:
            return EXPECTED_IDENTITY
        if self.state is State.INFORMING:
            return EXPECTED_CONTINUE
        return EXPECTED_DONE

    # ---- steps -------------------------------------------------------------------------------------------

    def _start_request(self, intent: str, heard: _Utterance) -> Reply:
        self._intent = intent
        if self.scenario_type is None:
            self.scenario_type = intent
        facts = _facts_for(intent, heard)
        if intent in NEEDS_IDENTITY and not self.verified:
            self._pending = facts
            self.state = State.IDENTITY
            return self._reply([ASK_IDENTITY_KEYPAD if self.keypad_identity else ASK_IDENTITY])
        self._agenda = facts + [fact for fact in self._agenda if fact not in facts]
        return self._inform(self._agenda.pop(0), [])

    def _check_identity(self, heard: _Utterance) -> Reply:
        if heard.gives_date_of_birth():
            self.verified = True
            self._agenda = self._pending + self._agenda
            self._pending = []
            return self._inform(self._agenda.pop(0), [VERIFIED])
        self.identity_failures += 1
        if self.identity_failures >= MAX_IDENTITY_FAILURES:
            self.transferred = True
            return self._end(TRANSFER, Action.TRANSFER)
        return self._reply([ASK_IDENTITY_AGAIN])

    def _follow_up(self, heard: _Utterance, intent: Optional[str]) -> Optional[_Fact]:
        """A question about something already done (when will it arrive, what's the rate, ...).

        It wins over intent detection unless the caller names another topic: "what's the interest rate"
        is loan vocabulary, but after the loan options it is a question, not a new application."""
        done = set(self.fulfilled)
        if "card_ordered" in done and intent in (None, CARD):
            if heard.any(_FOLLOW_EXPEDITE):
                return _Fact("delivery_date", CARD_EXPEDITE)
            if heard.any(_FOLLOW_DELIVERY):
                return _Fact("delivery_date", CARD_DELIVERY)
        if "loan_options" in done and intent in (None, LOAN):
            if "application_started" in done and heard.any(_FOLLOW_REFERENCE):
                return _Fact("application_started", LOAN_REFERENCE)
            if heard.any(_FOLLOW_REQUIREMENTS):
                return _Fact("loan_requirements", LOAN_REQUIREMENTS)
            if heard.any(_FOLLOW_RATE):
                return _Fact("loan_options", LOAN_RATE)
        if "complaint_logged" in done and intent in (None, COMPLAINT) and heard.any(_FOLLOW_RESOLUTION):
            if self._refund_given:
                return _Fact("resolution_plan", REFUND_TIMING)
            self._agenda = [fact for fact in self._agenda if fact.request_id != "resolution_plan"]
            return _Fact("resolution_plan", RESOLUTION_REFUND)
        return None

    def _inform(self, fact: _Fact, prefix: list[str]) -> Reply:
        """Say one fact; when it was the last one, ask "anything else?" in the same turn if it stays short."""
        self._agenda = [queued for queued in self._agenda if queued.sentence != fact.sentence]
        if fact.request_id not in self.fulfilled:
            self.fulfilled.append(fact.request_id)
        if fact.sentence == RESOLUTION_REFUND:
            self._refund_given = True
        sentences = prefix + [fact.sentence]
        self._asked_anything_else = False
        if self._agenda:
            self.state = State.INFORMING
        else:
            self.state = State.WRAP_UP
            if _words(sentences + [ANYTHING_ELSE]) <= MAX_TURN_WORDS:
                sentences.append(ANYTHING_ELSE)
                self._asked_anything_else = True
        return self._reply(sentences, facts=[fact])

    def _wrap_up(self, heard: _Utterance) -> Reply:
        if heard.any(_DECLINE):
            return self._end(GOODBYE, Action.HANGUP)
        if heard.any(_THANKS):
            if self._asked_anything_else:
                return self._end(GOODBYE, Action.HANGUP)
            self._asked_anything_else = True
            return self._reply([ANYTHING_ELSE])
        if heard.any(_YES):
            return self._reply([WHAT_ELSE])
        if heard.any(_ACKNOWLEDGE):
            self._asked_anything_else = True
            return self._reply([ANYTHING_ELSE])
        self.reprompts += 1
        return self._reply([REPROMPT])

    def _reassure(self) -> Reply:
        sentences = [REASSURE]
        if self.state is State.GREETING:
            sentences.append(_HOW_CAN_I_HELP)
        elif self.state is State.IDENTITY:
            sentences.append(_NAME_AND_BIRTH)
        elif self.state is State.WRAP_UP:
            sentences.append(ANYTHING_ELSE)
        return self._reply(sentences)

    def _repeat(self) -> Reply:
        assert self._last is not None
        return self._reply(list(self._last.sentences), facts=self._last_facts)

    def _end(self, sentence: str, action: Action) -> Reply:
        self.state = State.ENDED
        return self._reply([sentence], action=action)

    def _reply(self, sentences: list[str], facts: Optional[list[_Fact]] = None,
               action: Optional[Action] = None) -> Reply:
        self._last_facts = list(facts or [])
        reply = Reply(sentences=tuple(sentences), state=self.state, intent=self._intent, action=action,
                      fulfilled=tuple(fact.request_id for fact in self._last_facts))
        self._last = reply
        return reply


def _facts_for(intent: str, heard: _Utterance) -> list[_Fact]:
    """The facts that answer a request, in the order the agent tells them."""
    if intent == CARD:
        kind = "credit" if heard.any(_CREDIT) else "debit"
        return [_Fact("card_ordered", CARD_ORDERED.format(kind=kind)), _Fact("delivery_date", CARD_DELIVERY)]
    if intent == ACCOUNT:
        return _asked_for(heard, (_Fact("balance", BALANCE), _ACCOUNT_BALANCE),
                          (_Fact("transactions", TRANSACTIONS), _ACCOUNT_TRANSACTIONS))
    if intent == LOAN:
        return [_Fact("loan_options", LOAN_OPTIONS), _Fact("loan_requirements", LOAN_REQUIREMENTS),
                _Fact("application_started", LOAN_APPLICATION)]
    if intent == COMPLAINT:
        topic, is_fee = _complaint_topic(heard)
        return [_Fact("complaint_logged", COMPLAINT_LOGGED.format(topic=topic)),
                _Fact("resolution_plan", RESOLUTION_REFUND if is_fee else RESOLUTION_REVIEW)]
    return _asked_for(heard, (_Fact("hours", HOURS), _GENERAL_HOURS), (_Fact("services", SERVICES), _GENERAL_SERVICES))


def _asked_for(heard: _Utterance, *options: tuple[_Fact, tuple[str, ...]]) -> list[_Fact]:
    """The facts whose keywords the caller used; all of them when it named none (or every one)."""
    wanted = [fact for fact, keywords in options if heard.any(keywords)]
    return wanted if 0 < len(wanted) < len(options) else [fact for fact, _ in options]


def agent_phrases() -> list[str]:
    """Every sentence the agent can say, each variant spelled out (for pre-rendering and speech benchmarks)."""
    phrases = [GREETING, REPROMPT, ASK_IDENTITY, ASK_IDENTITY_AGAIN, ASK_IDENTITY_KEYPAD, VERIFIED, TRANSFER, REASSURE,
               _HOW_CAN_I_HELP, _NAME_AND_BIRTH, ANYTHING_ELSE, WHAT_ELSE, GOODBYE]
    phrases += [CARD_ORDERED.format(kind=kind) for kind in CARD_KINDS]
    phrases += [CARD_DELIVERY, CARD_EXPEDITE, BALANCE, TRANSACTIONS, LOAN_OPTIONS, LOAN_REQUIREMENTS,
                LOAN_APPLICATION, LOAN_RATE, LOAN_REFERENCE]
    topics = [topic for _, topic, _ in _COMPLAINT_TOPICS] + [_DEFAULT_TOPIC[0]]
    phrases += [COMPLAINT_LOGGED.format(topic=topic) for topic in topics]
    phrases += [RESOLUTION_REFUND, RESOLUTION_REVIEW, REFUND_TIMING, HOURS, SERVICES]
    return phrases
