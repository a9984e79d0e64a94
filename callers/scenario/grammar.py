"""The English a goal tracker needs to read what the caller heard: sentences and clauses, questions,
requests, offers and hedges, instructions to the caller, echoes of the caller's own words, failures,
negation, whether a clause reports a thing done, the facts a sentence gives (amounts, rates, clock times,
durations, dates), light stemming, and whether a cue's words stand together in a sentence.

This is language, not domain vocabulary, so it lives in code; what a criterion's words mean is data
(vocabulary.py reads goal_vocabulary.toml), and how the two decide a goal is goals.py's.

Every word of a sentence gets flags (a clause is the stretch between commas, semicolons and clause words):
  questioned  in a question clause;            requested  after a request of the caller ("please enter");
  tentative   after an offer, hedge or condition ("I can", "may", "if", "once"), or anywhere in a sentence
              that takes itself back ("..., but I can't promise anything");
  directed    after an instruction or condition put to the caller ("you can", "you'll need to", "to get X",
              an IVR menu's "press 2");
  echoed      reporting the caller's own words ("you said", "you'd like");
  negated     anywhere in a clause with a negation ("Disputes are not possible", "I can't order").
A clause is DONE when its grammar reports a completed or committed act by the agent: perfect ("I've
ordered"), passive ("has been issued", "is now blocked"), simple past ("we sent it"), progressive ("I'm
transferring you"), definite future ("it will be delivered", "we'll reverse it") or "let me ...". A
sentence that mentions a failure ("the order failed", "didn't go through") reports nothing done.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Iterator, Optional

# Moods a criterion can ask for: told as a fact, asked of the caller, or merely said (not negated).
STATEMENT = "statement"
REQUEST = "request"
ANY = "any"
MOODS = (STATEMENT, REQUEST, ANY)

NEGATIONS = frozenset({"not", "no", "never", "cannot", "unable", "nothing", "neither", "nor", "nolonger", "nobody",
                       "none", "noone",
                       "cant", "wont", "dont", "doesnt", "didnt", "isnt", "arent", "wasnt", "havent", "hasnt",
                       "couldnt", "wouldnt", "shouldnt", "werent", "aint", "unavailable"})
NEGATION_SUFFIX = "n't"
# A thing that will not work again is a thing blocked: a lasting negated use is a state ("it won't work
# anymore", "it can no longer be used", "ya no funciona"; not "it won't work until you activate it"), read as
# the one word "unusable" before negations are looked for.
UNUSABLE = re.compile(
    r"\b(?:(?:won't|wont|will not|can't|cant|cannot|can not|doesn't|doesnt|does not|don't|dont|do not)"
    r"(?: be)? (?:work|works|function|used|usable) (?:any ?more|for anything|at all|again)"
    r"|(?:can't|cant|cannot|can not) be used by (?:anyone|anybody|any one)(?: else)?"
    r"|(?:will |can |is )?nolonger(?: be)? (?:work|works|function|used|usable)"
    r"|(?:nolonger|no) (?:se )?(?:puede|podra|va a|le va a) (?:usar|usarse|utilizar|utilizarse|servir)(?:se)?"
    r"|(?:nolonger|no) (?:se puede usar|se podra usar|funciona|funcionara|sirve|servira|admite|admitira)"
    r"|(?:nolonger|no) (?:podra|puede) (?:usarse|utilizarse)"
    r"|(?:nolonger|no) (?:la |lo )?(?:podra|puede) (?:usar|utilizar)(?:la|lo)?"
    r"|nolonger (?:esta|estara) (?:operativa|operativo|activa|activo|disponible)"
    r"|(?:nobody|no one|noone) (?:else )?(?:can|could|will be able to) (?:use|make (?:any )?(?:purchases|payments)"
    r" (?:on|with)|spend (?:on|with)|pay with|buy (?:anything )?with)"
    r"|nadie (?:la |lo )?(?:puede|podra) (?:usar|usarla|usarlo|utilizar|utilizarla|comprar|pagar))\b")
# Negative words that do not negate anything ("no problem, I've ordered it").
HARMLESS_NEGATIONS = re.compile(r"\b(?:no problem|no worries|not a problem|no trouble|not at all|no need to worry"
                                r"|no later than|not later than|no more than|not more than"
                                r"|no tardara mas de|no mas tarde de|no mas de"
                                r"|(?:you )?(?:don't|dont|do not) (?:need|have) to do anything(?: else)?"
                                r"|nothing (?:else|more) (?:is )?needed|no need to call(?: us)?(?: back| in)?"
                                r"|no (?:tiene|tienes|necesita) que hacer nada(?: mas)?"
                                # a purpose: "I've added a note so it doesn't get reapplied"
                                r"|so (?:that )?(?:it|this|that|they|the fee|the charge) (?:doesn't|does not|won't"
                                r"|will not|can't|cannot|shouldn't|should not|never) (?:happen(?: again)?"
                                r"|(?:get|be) (?:reapplied|lost|repeated|charged again)))\b")
# "I need to put you through" is the agent's own hand-over, as "I have to" is; "I need your PIN" asks.
NEED_TO_HAND_OVER = re.compile(r"\b(i|we) need to (put|pass|transfer|send|move|connect|hand)\b")
# "Don't hang up" asks the caller to hold; it negates nothing the agent did ("te paso con un agente, no cuelgues").
HOLD_ON = re.compile(r"\b(?:(?:don't|dont|do not) hang up|no cuelgues?)\b")
# "No, I've ordered it": "no" before a subject answers the caller; it negates nothing in its clause.
ANSWER_NO = re.compile(r"\bno\s+(?=(?:i|i've|ive|i'll|i'm|im|we|we've|we'll|it|it's|that|that's|you're)\b)")
# A clause ends at these words or punctuation; negation reaches only across its clause.
CLAUSE_WORDS = frozenset({"and", "but", "so", "because", "although", "though", "while", "however", "or",
                          "plus", "then", "since", "whereas", "if", "unless", "once", "until", "whenever", "who",
                          "which", "that", "how", "whether", "where",
                          "y", "pero", "porque", "aunque", "asi",  # Spanish: and, but, because, although, so
                          "cause", "cuz", "coz"})  # "because", as transcripts write it
CLAUSE_PUNCTUATION = frozenset({",", ";", ":", "."})
# Skipped at the start of a clause before looking for a question opener ("Okay, thank you, can you ...").
FILLERS = (("thank", "you"), ("thanks",), ("okay",), ("ok",), ("alright",), ("all", "right"), ("right",),
           ("so",), ("well",), ("now",), ("great",), ("perfect",), ("sure",), ("um",), ("uh",), ("oh",),
           ("and",), ("or",), ("also",), ("just",), ("then",), ("but",), ("please",), ("kindly",))
AUXILIARIES = frozenset({"can", "could", "would", "will", "do", "does", "did", "may", "shall", "should",
                         "is", "are", "was", "were", "have", "has", "might"})
SUBJECTS = frozenset({"you", "i", "we", "there", "that", "this", "it", "he", "she", "they", "your"})
WH_WORDS = frozenset({"what", "which", "when", "where", "who", "whom", "whose", "why", "how"})
WH_CONTRACTIONS = frozenset({"what's", "where's", "when's", "who's", "how's", "which's", "whats", "wheres",
                             "hows", "whos"})
# After a wh-word these make it a question ("what kind of card ..."); "when your card arrives" is not one.
WH_FOLLOWERS = AUXILIARIES | frozenset({"kind", "type", "sort", "much", "many", "long", "often", "time"})
# An unpunctuated transcript is split before these, so "... ordered your card is there anything else"
# keeps its statement apart from its question.
EMBEDDED_QUESTION = re.compile(
    r"\s+(?=(?:(?:can|could|would|will|do|did|may|shall|should)\s+(?:you|i|we)|is\s+there|are\s+you"
    r"|what(?:'s|s|\s+is)\s+your)\b)")
# A piece this short before an embedded question is an interjection of that question ("sorry could you ...").
MIN_SPLIT_WORDS = 3
# A sentence this short that ends in a full stop labels the next one (an IVR's "Available balance. $2,412.").
LABEL_WORDS = 2
# A synthetic voice's pause after its verb ("Your available balance is. Five hundred. Twelve dollars."): the
# sentence goes on after it.
COPULA_PAUSE = re.compile(r"\b(?:is|are|was|were)\.$", re.IGNORECASE)
# "between 8 a.m. and 8 p.m.": a clock's "a.m." ends a sentence only where a capital follows it
SENTENCE_BREAK = re.compile(r"(?<=[.!?])(?<![ap]\.m\.)\s+|(?<=[ap]\.m\.)\s+(?=[A-Z])|\n+")
# Offers, hedges, conditions and look-ups: what follows them in the sentence has not happened yet.
TENTATIVE_MARKERS = (
    ("i", "can"), ("we", "can"), ("i", "could"), ("we", "could"), ("if",), ("unless",), ("once",),
    ("would", "you", "like"), ("do", "you", "want"), ("i'd", "be", "happy"), ("happy", "to"), ("glad", "to"),
    ("let", "me", "check"), ("let", "me", "look"), ("let", "me", "see"), ("let", "me", "pull"),
    ("let", "me", "find"), ("let", "me", "verify"), ("let", "me", "get"), ("let", "me", "just", "check"),
    ("let", "me", "just", "pull"), ("let", "me", "just", "look"), ("let", "me", "just", "see"),
    ("let", "me", "just", "find"), ("let", "me", "just", "get"), ("let", "me", "just", "verify"),
    ("let", "me", "take"), ("let", "me", "ask"), ("let", "me", "try"), ("let", "me", "quickly"),
    ("i'll", "check"), ("i'll", "look"), ("i", "will", "check"), ("i", "will", "look"), ("i'll", "see"),
    ("i'll", "try"), ("i'll", "ask"), ("see", "what"), ("i'm", "checking"), ("i'm", "looking"), ("im", "checking"),
    ("before", "i"), ("before", "we"), ("maybe",), ("might",), ("possibly",), ("perhaps",), ("probably",),
    ("hopefully",), ("try", "to"), ("tried", "to"), ("trying", "to"), ("vary",), ("varies",), ("depend",),
    ("depends",), ("depending",), ("i", "think"), ("i", "believe"), ("i", "guess"), ("as", "soon", "as"),
    ("can", "take"), ("could", "take"), ("up", "to", "you"), ("should", "you", "wish"), ("i'd",), ("id", "be"),
    ("would", "it", "help"), ("shall", "i"), ("want", "me", "to"), ("you", "want", "i"), ("if", "needed"),
    ("whether",), ("upon",), ("pending",), ("on", "receipt"), ("when",), ("after", "you"), ("after", "we"),
    ("provided", "you"), ("in", "case"), ("you", "could", "be"), ("you", "may", "be"), ("you", "might", "be"),
    ("usually",), ("normally",), ("typically",), ("generally",), ("awaiting",), ("still", "waiting"),
    ("it", "is", "possible"), ("it's", "possible"), ("its", "possible"), ("is", "possible"), ("they'd",),
    ("theyd",), ("i", "want", "to"), ("we", "want", "to"), ("wants", "to"), ("wanting",),
    # Spanish ("Si prefiere, le transfiero"; a folded "si" is "if": "sí" is read as "yes" before folding)
    ("si",), ("quizas",), ("quiza",), ("tal", "vez"), ("a", "lo", "mejor"), ("cuando",), ("en", "cuanto"),
    ("una", "vez", "que"), ("le", "gustaria"), ("quiere", "que"),
)
# "I can confirm / I can see that ..." report a fact rather than offer one, and "we can help with / offer /
# provide X" says what the bank does: marker -> words that cancel it.
_CAN_STATES = frozenset({"confirm", "see", "help", "offer", "provide", "tell"})
# "Pending transactions" are there already; "pending approval" has not happened yet.
_PENDING_THINGS = frozenset({"transaction", "transactions", "payment", "payments", "charge", "charges", "purchase",
                             "purchases", "card", "deposit", "deposits", "debit", "debits", "items", "authorization",
                             "authorisation", "hold", "holds"})
# "Before we spoke about your address, I placed the order": before a past event, nothing is conditional.
_PAST_EVENTS = frozenset({"spoke", "talked", "started", "began", "got", "went", "had", "were", "was", "did",
                          "finished", "moved", "hung", "came", "called", "checked", "looked"})
TENTATIVE_EXCEPTIONS = {("i", "can"): _CAN_STATES, ("we", "can"): _CAN_STATES, ("pending",): _PENDING_THINGS,
                        ("en", "cuanto"): frozenset({"a", "al"}),  # "en cuanto al envio": as for the shipment
                        ("before", "i"): _PAST_EVENTS, ("before", "we"): _PAST_EVENTS,
                        ("when",): frozenset({"to"})}  # "I'll tell you when to expect it" sets no condition
# Hedging modals, unless "you" comes before them: "it may take weeks" hedges, "you may want to" instructs.
HEDGE_MODALS = frozenset({"may", "could"})
# A modal hedge doubts its whole clause, its subject included ("A review within days might be possible").
CLAUSE_HEDGES = frozenset({"may", "could", "might", "maybe", "possibly", "probably", "perhaps"})
# Said anywhere in a sentence, these take back all of it ("I'll order it today, but I can't promise").
RETRACTIONS = (
    ("can't", "promise"), ("cannot", "promise"), ("cant", "promise"), ("can", "not", "promise"),
    ("can't", "guarantee"), ("cannot", "guarantee"), ("cant", "guarantee"), ("no", "guarantee"),
    ("not", "guaranteed"), ("not", "until"), ("only", "if"), ("only", "once"), ("provided", "that"),
    ("as", "long", "as"), ("subject", "to"), ("not", "sure"), ("don't", "know", "when"), ("dont", "know", "when"),
    ("cannot", "confirm"), ("can't", "confirm"), ("cant", "confirm"), ("cannot", "say"), ("can't", "say"),
    ("cant", "say"), ("not", "able", "to", "confirm"), ("unable", "to", "confirm"), ("not", "in", "a", "position"),
    ("not", "something", "we", "can"), ("not", "something", "i", "can"), ("outside", "the", "window"),
    ("may", "only", "be"), ("can", "only", "be"), ("not", "possible"), ("isn't", "possible"),
    # approval still to come, or the act undone since
    ("awaiting", "approval"), ("pending", "approval"), ("needs", "approval"), ("need", "approval"),
    ("approval", "is", "from"), ("to", "be", "signed", "off"), ("subsequently",), ("reapplied",),
    ("re", "presented"), ("was", "lifted"), ("been", "lifted"), ("withdrawn", "at", "your", "request"),
    ("cancelled", "at", "your", "request"), ("canceled", "at", "your", "request"), ("still", "carries"),
    ("still", "has", "them"), ("still", "has", "it"), ("still", "shows"),
)
# A contrast ("but", "however", "unfortunately") followed by the speaker's inability takes back the whole
# sentence: "I've started the order, but I can't submit it" reports nothing done.
# What follows these is done because of what came before, not taken back by it ("I'm not sure about that,
# so I'm transferring you to a colleague").
CONSEQUENCES = frozenset({"so", "therefore"})
# A speaker correcting itself mid-sentence: what came before is withdrawn.
CORRECTIONS = (("hang", "on", "no"), ("oh", "wait"), ("wait", "no"), ("no", "wait"), ("scratch", "that"),
               ("let", "me", "correct"), ("correction",), ("corrijo",), ("perdon", "corrijo"), ("mejor", "dicho"))
# "..., and either way I'll call you on Friday": what follows these holds whatever the condition before them.
UNCONDITIONALS = (("either", "way"), ("in", "any", "case"), ("regardless",), ("whatever", "happens"),
                  ("no", "matter", "what"), ("de", "todas", "formas"), ("en", "cualquier", "caso"))
# A failure told as what the act brought about ("deactivated, which means the charge was declined") or named
# as a thing's kind ("your complaint about the failed transfer") is no failure of the agent's act.
CONSEQUENCE_LEADS = (("which", "means"), ("which", "meant"), ("meaning",))
ATTRIBUTIVE_FAILURES = frozenset({"failed", "rejected", "unsuccessful", "declined"})
NAMING_DETERMINERS = frozenset({"the", "a", "an", "your", "my", "our", "their", "his", "her", "these", "those"})
# "... so the fee's still there for now": what an earlier sentence reported done has not held.
STILL_THERE = frozenset({("still", "there"), ("still", "live"), ("still", "active"), ("still", "usable"),
                         ("still", "charged"), ("still", "pending"), ("one", "stays"), ("it", "stays"),
                         ("still", "on"), ("they", "stay"), ("they", "remain"), ("remains", "active")})
# Contrasts that turn against what came before ("though" and "however" more often add a side remark).
TURNS = frozenset({"but", "unfortunately", "regrettably", "sadly", "pero"})
# After such a turn these doubt what came before it as much as a negation does ("..., but this one still has it").
DOUBTING = frozenset({"still", "nothing"})
CONTRASTS = frozenset({"but", "however", "unfortunately", "regrettably", "sadly", "although", "though", "yet",
                       "except"})
INABILITIES = (
    ("i", "can't"), ("i", "cannot"), ("i", "cant"), ("i", "can", "not"), ("we", "can't"), ("we", "cannot"),
    ("we", "cant"), ("we", "can", "not"), ("i", "couldn't"), ("we", "couldn't"), ("i", "couldnt"),
    ("we", "couldnt"), ("unable",), ("not", "able"), ("i", "don't", "see"), ("i", "dont", "see"),
    ("we", "don't", "see"), ("i", "won't", "be", "able"), ("we", "won't", "be", "able"),
    ("i", "do", "not", "see"), ("i", "can't", "see"), ("i", "cannot", "see"), ("i", "not"), ("we", "not"),
)
# Someone else's case: a clause about another customer, a relative of the caller or a third person reports
# nothing about the caller's own ("his card arrived in five days", "my colleague already apologised"),
# unless it commits that person to act for the caller ("she will call you back"). A short clause that only
# names the person ("The manager, he already said sorry") carries over to the next. Not "he": Spanish "he
# pedido" is "I have ordered".
OTHERS = (
    ("another", "customer"), ("other", "customer"), ("other", "customers"), ("another", "client"),
    ("other", "client"), ("other", "clients"), ("someone", "else"), ("somebody", "else"), ("she",),
    ("his",), ("her",), ("he's",), ("she's",), ("your", "husband"), ("your", "wife"), ("your", "partner"),
    ("your", "son"), ("your", "daughter"), ("your", "husband's"), ("your", "wife's"), ("your", "partner's"),
    ("joint", "account", "holder"), ("joint", "holder"), ("additional", "cardholder"), ("your", "friend"),
    ("your", "friend's"), ("your", "neighbour"), ("your", "neighbor"), ("your", "mother"), ("your", "father"),
    ("your", "mum"), ("your", "mom"), ("your", "dad"), ("your", "brother"), ("your", "sister"),
    ("your", "wifes"), ("your", "husbands"), ("your", "daughter's"), ("your", "daughters"), ("your", "son's"),
    ("your", "sons"), ("your", "brother's"), ("your", "brothers"), ("your", "sister's"), ("your", "sisters"),
    ("your", "mother's"), ("your", "father's"), ("your", "other", "account"), ("your", "other", "card"),
    # someone else asking the caller ("Did someone claiming to be the bank ask for your PIN?")
    ("someone", "asked"), ("somebody", "asked"), ("someone", "ask"), ("somebody", "ask"),
    ("someone", "claiming"), ("somebody", "claiming"), ("did", "someone"), ("did", "somebody"),
    ("did", "anyone"), ("has", "anyone"), ("has", "someone"), ("someone", "on", "the", "phone"),
    # an earlier call's act is not this call's ("blocked last week on a previous call")
    ("previous", "call"), ("last", "call"), ("earlier", "call"), ("prior", "call"), ("last", "time"),
    ("someone", "called"), ("somebody", "called"), ("fraudster",), ("fraudsters",), ("scammer",), ("scammers",),
    ("criminals",), ("your", "business", "account"),
    ("many", "people"), ("other", "people"), ("some", "people"), ("most", "people"),
    ("su", "esposo"), ("su", "esposa"), ("su", "marido"), ("su", "mujer"), ("su", "hijo"), ("su", "hija"),
    ("otro", "cliente"), ("otra", "clienta"),
    ("your", "colleague"), ("your", "colleague's"), ("your", "coworker"), ("your", "coworker's"),
    ("your", "neighbour's"), ("your", "neighbor's"), ("business", "partner"), ("partner", "bank"),
    ("your", "employer"), ("your", "employer's"),
)
# The bank's own staff act for the caller ("my colleague has ordered your card"), except in an earlier call
# ("my colleague already apologised last week"): they count as someone else only beside PAST_TIME words.
STAFF = (("my", "colleague"), ("a", "colleague"), ("the", "manager"), ("my", "colleagues"), ("colleague's",),
         ("my", "manager"), ("my", "supervisor"), ("the", "supervisor"))
PAST_TIME = frozenset({"last", "earlier", "yesterday", "previous", "previously", "ago"})
TOPIC_WORDS = 4
TOPIC_ASIDES = frozenset({("no",), ("sorry",), ("i'm", "sorry"), ("im", "sorry"), ("i", "am", "sorry"),
                          ("i'm", "afraid"), ("unfortunately",), ("no", "sorry")})
NAMED_BY_NEGATION = frozenset({"one", "something", "anything", "thing"})
# Before these a third person is where the call goes or who is told ("connect you with my colleague").
OTHERS_EXCEPT_AFTER = frozenset({"to", "with", "through", "over", "tell", "told", "ask", "asked", "let", "from",
                                 "for", "by"})
# Requests for something from the caller: what follows is asked for, not told.
REQUEST_MARKERS = (
    ("please", "tell"), ("please", "give"), ("please", "provide"), ("please", "confirm"), ("please", "read"),
    ("please", "say"), ("please", "spell"), ("please", "enter"), ("please", "share"), ("tell", "me"),
    ("give", "me"), ("read", "me"), ("i", "need"), ("i'll", "need"), ("i", "will", "need"), ("we", "need"),
    ("we'll", "need"), ("i", "just", "need"), ("i'd", "need"), ("can", "i", "have"), ("may", "i", "have"),
    ("could", "i", "have"), ("i'd", "like", "your"), ("key", "in"), ("type", "in"), ("please", "state"),
    ("kindly", "provide"), ("kindly", "enter"), ("kindly", "state"), ("ill", "need"), ("ill", "just", "need"),
    ("i'll", "also", "need"), ("ill", "also", "need"), ("i", "also", "need"), ("we'll", "also", "need"),
    ("i", "shall", "need"), ("we", "shall", "need"), ("i'll", "just", "need"), ("we'll", "just", "need"),
    ("ask", "you", "to"), ("ask", "you", "for"), ("i", "must", "ask"),
    # what the agent's system wants from the caller is asked of the caller ("the system wants your PIN")
    ("system", "wants"), ("system", "needs"), ("form", "wants"), ("form", "needs"),
    ("application", "needs"), ("going", "to", "need"), ("gonna", "need"), ("system", "requires"),
    ("system", "will", "need"),
    ("say", "me"),  # "please you say me the PIN"
)
# A clause that opens with one of these verbs (after "please", "now", ...) asks the caller for something.
REQUEST_VERBS = frozenset({"tell", "give", "read", "say", "state", "provide", "enter", "key", "type", "spell",
                           "confirm", "share", "input"})
# Instructions and conditions put to the caller: what follows is for the caller to do, not done by the agent.
DIRECTED_MARKERS = (
    ("you", "can"), ("you", "could"), ("you", "may"), ("you", "might"), ("you", "should"), ("you", "must"),
    ("you", "need"), ("you", "just", "need"), ("you'll", "need"), ("youll", "need"), ("you'll", "just", "need"),
    ("you", "will", "need"), ("you'd", "need"), ("youd", "need"), ("you", "would", "need"),
    ("you'll", "have", "to"), ("youll", "have", "to"), ("you", "have", "to"), ("you'd", "have", "to"),
    ("you", "would", "have", "to"), ("you're", "able"), ("you", "are", "able"), ("you", "are", "welcome"),
    ("whenever",), ("feel", "free"), ("go", "to", "our"), ("go", "to", "the"), ("head", "to"),
    ("when", "you're", "ready"), ("you're", "welcome", "to"), ("simply",), ("it's", "best", "to"),
    ("best", "to"), ("please", "call"), ("call", "us"), ("contact", "us"),
)
# A clause that opens with one of these verbs (after "please", ...) tells the caller what to do.
DIRECTED_VERBS = frozenset({"visit", "go", "head", "call", "contact", "log", "download", "click", "use", "check",
                            "fill", "write", "send", "bring", "pop", "drop", "try", "come", "stop"})
# Running Spanish: a clitic before the agent's own act opens a clause ("no tengo acceso la comunico con ..."),
# unless one of these stands before it ("que le transfiero", "no le paso").
SPANISH_BEFORE_CLITIC = frozenset({"que", "no", "nunca", "ni", "si"})
SPANISH_CLITICS = frozenset({"le", "la", "lo", "te", "les", "los", "las", "se"})
SPANISH_FIRST_PERSON_ACTS = frozenset({"paso", "comunico", "conecto",
                                       "transfiero", "pongo", "mando", "envio", "tramito",
                                       "bloqueo", "cancelo", "anulo", "pido", "solicito", "devuelvo", "reembolso"})
# Running words: a first person with its auxiliary opens a clause, except after these ("what I've done").
SUBJECT_AUXILIARIES = frozenset({"i've", "ive", "i'm", "im", "we've", "weve", "we're", "i'll", "ill", "we'll"})
RELATIVE_LEADS = frozenset({"as", "than", "what", "like", "because", "cause", "cos", "since"})
# "If that charge isn't yours we can dispute it": a subject pronoun after an object ends a clause that has no
# punctuation, so the first clause's negation does not reach the second.
SUBJECT_PRONOUNS = frozenset({"i", "we", "i'll", "we'll", "i've", "we've", "i'm", "we're", "ill", "ive", "im",
                              "weve", "i'd", "we'd"})
OBJECT_ENDINGS = frozenset({"it", "them", "yours", "mine", "ours", "theirs", "this", "one"})
# ... and so does a subject after these words, which end a clause far more often than they start a noun
# phrase ("the replacement's been requested on my end you don't need to do anything").
CLAUSE_ENDINGS = frozenset({"end", "here", "now", "today", "already", "too", "again", "soon", "away", "back",
                            "file", "yet", "phone", "line", "in", "out", "up", "off", "through", "sorry"})
# Subjects that open a clause after CLAUSE_ENDINGS, or after a condition without a comma ("if you don't
# recognise the charge we can dispute it").
CLAUSE_SUBJECTS = frozenset({"i", "we", "i'll", "we'll", "i've", "we've", "i'm", "we're", "ill", "ive", "im",
                             "weve", "you", "you'll", "youll", "you're", "youre", "you've", "youve", "it's", "that's",
                             "thats", "it"})
# Words before "you don't ..." that are no noun a relative clause could follow ("make sure you don't").
NOT_A_NOUN = frozenset({"to", "sure", "thank", "make", "need", "want", "like", "hope", "think", "guess", "mean"})
# The speaker reporting its own act in the perfect ("and I've logged it"): no earlier condition governs it.
PERFECT_SPEAKERS = frozenset({"i've", "ive", "we've", "weve"})
# A relative clause with its own subject ("which you did not recognise") ends where the main verb comes.
RELATIVES = frozenset({"which", "that", "who"})
RESUMING_VERBS = frozenset({"was", "is", "are", "were", "has", "had"})
# A speaker's hesitation before a subject starts a new clause in running words ("so sorry um thats not on").
HESITATIONS = frozenset({"um", "uh", "erm", "er", "uhm", "hmm"})
CUT_OFF_BEFORE_NOT = frozenset({"do", "does", "please", "must", "should"})
# Asides that may stand between a negation and its verb ("do not, under any circumstances, share ...").
ASIDE_OPENERS = frozenset({"under", "at", "in", "for", "ever", "by", "please", "repeat", "again", "even"})
# After "that" these make it a pronoun, not the start of a clause ("do that online", "say that again").
AFTER_PRONOUN_THAT = frozenset({"on", "in", "at", "online", "here", "there", "now", "today", "again", "anymore",
                                "for", "through", "over", "by", "from", "yourself", "myself"})
SUBORDINATORS = frozenset({"if", "unless", "once", "when", "because", "since", "although", "though", "while"})
# How far into an "and" clause an elided passive's participle may stand ("and the two sums credited").
ELIDED_REACH = 6
# An "or" clause this short names one more thing of the clause before it ("never your card number or PIN").
OR_ITEM_WORDS = 10
# "Just to confirm: ...", "to recap, ...": a lead-in to what the agent reports, not a purpose put to the caller.
REPORT_LEAD_INS = frozenset({"confirm", "recap", "summarise", "summarize", "clarify", "update", "be", "let", "say",
                             "reassure"})
# A sentence that opens with these before its subject states a condition ("Should the review find ...").
INVERTED_CONDITIONS = frozenset({"should", "were", "had"})
# "... so they can take a look": who a purpose clause lets act.
PURPOSE_SUBJECTS = frozenset({"they", "you", "we", "i", "he", "she", "that", "someone"})
# Verbs an act is only begun by ("I've started filling in the form"): what follows them is under way.
BEGINNINGS = frozenset({"started", "begun", "began", "starting", "beginning"})
# Words that open a relative clause after a noun ("someone who can help"), never a question there.
RELATIVES = frozenset({"who", "which", "whom", "whose", "that", "who's", "whos"})
# ... but after these "that" opens what is reported ("please be advised that cards are normally blocked").
REPORTING = frozenset({"advised", "aware", "confirm", "confirmed", "say", "said", "know", "think", "see", "sure",
                       "note", "noted", "told", "tell", "mean", "means", "believe", "hope", "expect", "understand",
                       "seems", "show", "shows", "indicate", "indicates", "afraid", "guess", "me", "us", "you"})
# "here's what's going to happen": what follows is told, not asked.
ANNOUNCING = frozenset({"here's", "heres", "that's", "thats"})
# A sentence opening with these and asking something asks for a repeat ("Sorry? Say again?").
PARDONS = frozenset({"sorry", "pardon"})
CHECK_BACK_WORDS = 3
# A question word this early in an unpunctuated sentence opens its question after a short lead-in.
LEAD_IN_WORDS = 3
# Auxiliaries that a non-native speaker puts before a plain verb to say it is done ("is block", "have order").
BASE_AUXILIARIES = frozenset({"have", "has", "is", "are", "i've", "we've", "ive", "weve", "it's"})
# Nouns are no plain verbs: "this is replacement cost", "I have application forms".
NOUN_ENDINGS = ("ment", "tion", "sion", "ery", "ance", "ence", "ness", "ity", "al")
# ... but these after "is" describe a state ("the branch is open"), not an act done.
STATE_WORDS = frozenset({"open", "close", "free", "clear", "live", "ready", "due", "active", "secure", "available"})
# Words that may stand inside a cue of several words: an object pronoun or an adverb of the moment.
# Particles a verb's object may stand before ("pulled the charges back", "shut the card down"), and the
# words such an object opens with and never holds.
PARTICLES = frozenset({"back", "off", "down", "through", "out", "over", "away"})
OBJECT_WORDS = 4
OBJECT_OPENERS = frozenset({"the", "a", "an", "your", "my", "our", "their", "this", "that", "these", "those", "its",
                            "his", "her", "both", "all", "each", "it", "them", "one", "either"})
NOT_IN_OBJECT = frozenset({"and", "but", "so", "because", "or", "then", "if", "to", "for", "is", "are", "was", "were",
                           "be", "been", "have", "has", "had", "will", "would", "can", "could", "i", "we", "you",
                           "they", "he", "she", "it's", "i've", "we've", "i'm", "we're", "which", "who"})
INSIDE_CUE = frozenset({"it", "them", "now", "just", "straight", "right", "quickly", "ahora"})
# Reporting what the caller said or wants: an echo of the caller, not the agent's own statement.
# The verb of a noun that an echo qualifies: "the card you asked about has now been reissued".
QUALIFIED_VERBS = frozenset({"is", "are", "was", "were", "has", "have", "had"})
REPORTED = frozenset({"said", "say", "asked", "ask", "asking", "saying", "mentioned"})
CONDITION_LEADS = frozenset({"if", "should", "whenever"})
ECHO_MARKERS = (
    ("you", "said"), ("you", "mentioned"), ("you", "asked"), ("you're", "asking"), ("youre", "asking"),
    ("you", "are", "asking"), ("you", "want"), ("you", "wanted"), ("you'd", "like"), ("youd", "like"),
    ("you", "would", "like"), ("you're", "saying"), ("youre", "saying"), ("you", "are", "saying"),
    ("you", "told", "me"), ("you're", "looking", "for"), ("you're", "calling"), ("you", "are", "calling"),
    ("you", "requested"), ("you've", "asked"), ("you", "need", "a"), ("you", "need", "the"),
    ("you", "need", "your"), ("you", "were", "asking"), ("you're", "after"), ("you're", "wondering"),
    ("youre", "wondering"), ("you", "are", "wondering"), ("you", "were", "wondering"), ("you", "wonder"),
    ("you", "say"), ("youre", "after"), ("you", "want", "to", "know"), ("you", "ask"), ("you'd", "want"),
    ("youd", "want"), ("you", "would", "want"), ("you", "wanna"), ("what", "you're", "saying"),
    ("what", "youre", "saying"), ("did", "you", "wish"), ("do", "you", "wish"), ("is", "your", "query"),
    ("is", "your", "question"), ("is", "your", "enquiry"), ("is", "your", "inquiry"), ("were", "you"),
    ("you", "just", "want"), ("you", "only", "want"), ("your", "query", "regarding"), ("your", "query", "about"),
    ("your", "question", "about"), ("your", "enquiry", "about"), ("your", "inquiry", "about"), ("you", "wish"),
    ("you're", "interested"), ("youre", "interested"), ("you", "are", "interested"),
)
# Words that open a clause of the agent's own again after an echo ("you said X, so I've ...").
FIRST_PERSON = frozenset({"i", "i've", "i'll", "i'm", "i'd", "ive", "ill", "im", "we", "we've", "we'll", "we're",
                          "weve", "let", "here's", "here"})
# A sentence that says an act failed reports nothing done, whichever clause says it.
FAILURES = (
    ("fail",), ("failed",), ("fails",), ("failure",), ("unsuccessful",), ("error",), ("rejected",),
    ("system", "reject"), ("system", "rejects"), ("got", "reapplied"), ("was", "reapplied"), ("been", "reapplied"),
    ("re", "presented"), ("represented", "it"),
    ("not", "succeed"), ("didn't", "succeed"), ("didnt", "succeed"), ("did", "not", "succeed"),
    ("not", "gone", "through"), ("hasn't", "gone", "through"), ("hasnt", "gone", "through"),
    ("didn't", "go", "through"), ("didnt", "go", "through"), ("not", "go", "through"), ("went", "wrong"),
    ("timing", "out"), ("timed", "out"), ("won't", "let", "me"), ("wouldn't", "let", "me"),
    ("wouldnt", "let", "me"), ("wont", "let", "me"), ("system", "is", "down"), ("system's", "down"),
    ("couldn't",), ("couldnt",), ("could", "not"), ("wasn't", "able"), ("wasnt", "able"), ("was", "not", "able"),
    ("weren't", "able"), ("unable",), ("not", "approved"), ("not", "been", "approved"), ("not", "yet", "approved"),
    ("hasn't", "approved"), ("hasnt", "approved"), ("hasn't", "been", "approved"), ("didn't", "save"),
    ("didnt", "save"), ("did", "not", "save"), ("wasn't", "saved"), ("not", "saved"),
) + tuple((verb, said) for verb in ("was", "were", "been", "got", "is", "has", "have")
          for said in ("declined", "denied", "refused")) + tuple(
    (said, whom) for said in ("declined", "denied", "refused") for whom in ("it", "the", "your", "our", "my"))
# IVR menus ("For delivery information, press 2") point somewhere; nothing in them is done or given.
MENU_KEYS = re.compile(r"\bpress (?:\d|zero|one|two|three|four|five|six|seven|eight|nine|star|pound|hash)\b")

# ---- is a clause a thing done? --------------------------------------------------------------------------
HAVE = frozenset({"have", "has", "had", "i've", "we've", "ive", "weve", "they've", "it's", "its", "that's",
                  "he's", "she's"})
BE = frozenset({"is", "are", "was", "were", "be", "been", "being", "am", "i'm", "im", "we're", "it's",
                "its", "that's", "thats", "they're", "he's", "she's", "you're", "youre"})
# "That's your card ordered": a presentational "that's" before the thing and what was done to it.
PRESENTING = frozenset({"that's", "thats", "there's", "theres", "here's", "heres"})
# Definite future, and "should" of expectation ("it should arrive by Friday"): a commitment.
FUTURE = frozenset({"will", "shall", "i'll", "we'll", "it'll", "they'll", "he'll", "she'll", "ill", "gonna",
                    "you'll", "youll", "that'll", "should"})
YOU = frozenset({"you", "you'll", "youll", "you've", "youve", "you're", "youre", "you'd", "youd"})
# Modals of possibility or duty before "be done": "can be ordered online" reports nothing done.
OPEN_MODALS = frozenset({"can", "could", "may", "might", "must", "would", "cannot", "can't", "cant", "should"})
# Words allowed between an auxiliary and its verb ("I've just gone ahead and ordered").
ADVERBS = frozenset({"just", "already", "now", "also", "successfully", "been", "being", "be", "officially",
                     "actually", "formally", "really", "finally", "all", "ahead", "today",
                     "personally", "immediately", "automatically", "then", "permanently", "temporarily",
                     "completely", "fully", "therefore", "hereby", "uh", "um", "erm"})
# Words after which a plural "are" + past participle reports a particular thing ("your cards are blocked").
DEFINITE = frozenset({"your", "the", "both", "these", "those", "they", "my", "all"})
# What can follow "I" without being an act the speaker performs by saying it.
NOT_PERFORMATIVE = AUXILIARIES | frozenset({
    "need", "think", "see", "understand", "want", "know", "hope", "guess", "believe", "mean", "feel", "wonder",
    "like", "love", "appreciate", "agree", "just", "also", "really", "only", "still", "try", "am", "cannot",
    "don't", "dont", "didn't", "didnt", "can't", "cant", "won't", "wont", "would", "could", "should", "might",
    "must", "will", "shall", "do", "did", "have", "had", "was", "suggest", "recommend", "apologise",
    "apologize", "regret", "promise", "expect", "usually", "normally", "always", "never", "often", "sometimes",
    "generally", "typically", "actually", "ask", "wish", "look", "check", "get", "go", "assume", "suppose",
    "imagine", "doubt", "reckon", "afraid"})
# Words that report an act finished when they end its clause or follow "is" ("Card reissue complete.").
COMPLETE = frozenset({"complete", "completed", "done", "finished", "sorted", "finish"})
# A second-language perfect with the bare verb ("I have make the order", "we have send it"): done.
BARE_PERFECT_VERBS = frozenset({"make", "do", "send", "order", "cancel", "block", "put", "give", "change", "write",
                                "open", "stop", "register", "finish", "complete", "request", "process", "transfer",
                                "start", "begin", "submit", "file", "refund", "reverse", "return", "arrange", "book"})
# Adverbs that mark a bare past participle as done ("the new card already sent").
COMPLETED = frozenset({"already", "just", "successfully", "now"})
AGENTS = frozenset({"i", "we", "they", "he", "she", "it", "someone", "somebody", "team"})
IRREGULAR_PAST = frozenset({"did", "sent", "made", "done", "put", "set", "given", "taken", "paid", "begun", "began",
                            "frozen", "froze", "shown", "gone", "went", "got", "gotten", "written", "held", "kept",
                            "brought", "told", "found", "built", "spent", "run", "come", "came", "become", "seen",
                            "chosen", "sold", "dealt", "withdrawn", "drawn", "undone", "struck", "shut", "cut"})
NOT_PAST = frozenset({"needed", "interested", "concerned", "detailed", "limited", "advanced", "based", "dated",
                      "required", "registered", "expected", "attempted", "related", "unexpected", "qualified",
                      "authorised", "authorized", "supposed", "used", "allowed", "entitled", "automated",
                      "associated", "linked"})
NOT_ING = frozenset({"thing", "nothing", "something", "anything", "everything", "morning", "evening", "during",
                     "banking", "pending", "outstanding", "missing", "ending", "opening", "closing", "building",
                     "funding", "pricing", "spending", "booking", "setting", "meeting", "billing", "savings",
                     "calling", "asking", "saying", "looking", "listening", "hoping", "wondering"})
DETERMINERS = frozenset({"the", "a", "an", "your", "my", "our", "their", "this", "that", "these", "those", "its",
                         "there", "his", "her", "no", "any", "some", "all"})
# How a clause reports its act: not at all, as done (past, perfect, passive, progressive) or committed to
# (future, "let me"); a condition anywhere in the sentence makes a commitment conditional.
NOT_DONE, DONE, COMMITTED = 0, 1, 2

# ---- what a sentence gives ----------------------------------------------------------------------------
NUMBER_WORDS = frozenset(
    "zero oh one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred thousand "
    "million billion half "
    # Spanish, for es-ES criteria ("en tres a cinco días hábiles"); "once" (eleven) would clash with English.
    "dos tres cuatro cinco seis siete ocho nueve diez doce quince veinte treinta".split())
ORDINALS = frozenset(
    "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth thirteenth fourteenth "
    "fifteenth sixteenth seventeenth eighteenth nineteenth twentieth thirtieth".split())
# Written before or after the amount: "AUD 17,250", "250 CAD".
CURRENCY_CODES = frozenset({"usd", "gbp", "eur", "aud", "cad", "nzd", "chf", "inr", "mxn", "sgd", "hkd", "zar",
                            "jpy"})
CURRENCIES = CURRENCY_CODES | frozenset({
    "dollar", "dollars", "cent", "cents", "buck", "bucks", "pound", "pounds", "pence", "euro", "euros", "quid",
    "rupee", "rupees", "peso", "pesos", "naira", "rand", "yen", "yuan", "zloty", "zlotys", "franc", "francs",
    "ringgit", "dirham", "dirhams"})
DIGIT_ORDINAL = re.compile(r"\d+(?:st|nd|rd|th)")  # "on the 1st" dates, it counts nothing
IDENTIFIER_LEADS = frozenset({"ending", "ends", "reference", "ref", "extension", "dial", "dialling", "dialing",
                              "star"})
CLOCK_WORDS = frozenset({"noon", "midday", "midnight", "o'clock", "oclock", "am", "pm"})
RANGE_WORDS = frozenset({"to", "till", "til", "until", "through", "thru", "and"})
UNITS = frozenset({"day", "days", "week", "weeks", "hour", "hours", "month", "months", "minute", "minutes"})
# How a recogniser hears a unit word ("five to seven business date"): counted as the unit only where a
# window is unmistakable (after "business"/"working", or a number range), so "a date" stays a date.
MISHEARD_UNITS = frozenset({"date", "dates", "daze", "dais", "weak", "weaks", "ours"})
AMOUNT_WORDS = frozenset({"a", "an", "one", "couple", "few", "several", "next", "two", "the"}) | NUMBER_WORDS
WEEKDAYS = frozenset({"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "mondays",
                      "tuesdays", "wednesdays", "thursdays", "fridays", "saturdays", "sundays", "weekday",
                      "weekdays", "weekend", "weekends"})
MONTHS = frozenset({"january", "february", "march", "april", "june", "july", "august", "september", "october",
                    "november", "december", "sept", "may"})
DAY_WORDS = frozenset({"tomorrow", "today", "yesterday", "tonight", "overnight"})
CONTENT_KINDS = ("money", "number", "percent", "clock", "duration", "date", "weekday")
# "The first page", "the second charge": an ordinal before these counts things, it is no date.
ORDINAL_NOUNS = frozenset({"page", "time", "step", "one", "thing", "option", "part", "stage", "line", "floor", "call",
                           "charge", "payment", "transaction", "card", "account", "question", "number", "digit",
                           "digits", "letter", "screen", "menu", "item", "fee", "person", "agent", "attempt"})
# After these "one" stands for a thing, not a figure ("the one in our app", "a new one").
PRONOUN_ONE_AFTER = frozenset({"the", "this", "that", "which", "each", "any", "every", "no", "new", "old", "other",
                               "same", "right", "last", "first", "another", "replacement", "big", "small"})

# Heard sentences whose analysis is kept: agents say the same sentences call after call ("Is there anything
# else I can help you with?"), and a worker with hundreds of calls would analyse each one again every turn.
ANALYSED_SENTENCES = 4096
_TOKEN = re.compile(r"\d+\.\d+|[a-z0-9]+(?:'[a-z]+)*|[,;:]|\.(?=\s)")
_DECIMAL = re.compile(r"(\d+)\.(\d+)")
# A number before these counts things ("you have two accounts", "those four digits"): it is no amount.
COUNTED = frozenset({"account", "accounts", "card", "cards", "transaction", "transactions", "payment", "payments",
                     "charge", "charges", "time", "times", "branch", "branches", "option", "options", "loan", "loans",
                     "product", "products", "people", "call", "calls", "department", "departments", "digit",
                     "digits", "number", "numbers", "questions", "things", "ways", "cuentas", "tarjetas"})
NOW_WORDS = frozenset({"now", "already", "just"})
HEADLINE_REACH = 6
HEADLINE_BREAKERS = AUXILIARIES | BE | HAVE | FUTURE | frozenset({
    "i", "we", "they", "he", "she", "if", "when", "once", "to", "can", "must", "need", "needs", "let's", "lets",
    "let", "please", "get", "got", "that", "which", "who"})
USUAL_VERBS = frozenset({"ship", "ships", "arrive", "arrives", "take", "takes", "go", "goes", "come", "comes",
                         "appear", "appears", "show", "shows", "usually", "normally", "typically", "always", "get",
                         "gets", "stay", "stays", "remain", "remains", "cost", "costs"})
ADDITIVE_ENDINGS = frozenset({"too", "also", "please", "well"})
# "That's everything I need": a need named as met, no request.
NAMED_NEEDS = frozenset({"everything", "all"})
NAMING_ABILITY = frozenset({"what", "all", "everything", "anything", "something"})
PLAN_LEADS = (("plan", "is"), ("here's", "what", "happens"), ("heres", "what", "happens"),
              ("here's", "what", "will", "happen"), ("heres", "what", "will", "happen"), ("what", "i'll", "do", "is"),
              ("what", "ill", "do", "is"), ("what", "we'll", "do", "is"), ("what", "well", "do", "is"),
              ("next", "steps", "are"), ("next", "step", "is"), ("what", "happens", "next", "is"),
              ("what", "happens", "now", "is"), ("what", "i", "will", "do", "is"), ("what", "we", "will", "do", "is"))
# "9.30" and "4.45" are clock times as British agents write them; "49.99" and "12.50" are prices.
CLOCK_MINUTES = frozenset({"00", "15", "30", "45"})
_DIGIT_GROUPING = re.compile(r"(?<=\d),(?=\d)")
_MONEY_SIGN = re.compile(r"([$£€])\s?(\d+(?:\.\d+)?)")
_CURRENCY_OF_SIGN = {"$": "dollars", "£": "pounds", "€": "euros"}
_CLOCK_SUFFIX = re.compile(r"\b(\d{1,2})\s?(a\.?m\.?|p\.?m\.?)(?=\W|$)")
_VOWELS = frozenset("aeiouy")


def stem(word: str) -> str:
    """Light suffix stripping so "delivered", "delivers" and "delivering" meet; applied alike to criteria,
    cues and heard words, so only consistency matters, not linguistic correctness."""
    if word.endswith("'s"):
        word = word[:-2]
    if "'" in word or len(word) <= 3:
        return word
    if word in ("note", "noted", "notes", "noting"):  # not the negation "not"
        return "note"
    if word.endswith(("ies", "ied")) and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("ing") and len(word) > 5:
        word = word[:-3]
    elif word.endswith("ed") and not word.endswith("eed") and len(word) > 4:
        word = word[:-2]
    elif word.endswith("es") and word[:-2].endswith(("sh", "ch", "x", "ss", "z")):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in _VOWELS:
        word = word[:-1]
    if len(word) > 3 and word.endswith("e") and not word.endswith("ee"):
        word = word[:-1]
    return word


def _fold_accents(text: str) -> str:
    """"días hábiles" -> "dias habiles": a transcript may drop accents, and a cue should not depend on them."""
    if text.isascii():
        return text
    return "".join(char for char in unicodedata.normalize("NFKD", text) if not unicodedata.combining(char))


# A speaker's restart ("i'm gonna i'm gonna send you", "the the card"): the words said twice count once.
_RESTART = re.compile(r"\b([a-z']+(?: [a-z']+){0,2}) \1(?![\w'])")


def _said_once(match: "re.Match[str]") -> str:
    words = match.group(1).split()
    if any(word in NUMBER_WORDS for word in words):  # "four four one two" is a number read out
        return match.group(0)
    return match.group(1)


def _normalize(text: str) -> str:
    text = re.sub(r"\bsí\b", "yes", text.lower().replace("\u2019", "'").replace("\u2018", "'"))
    text = _fold_accents(text)
    text = _RESTART.sub(_said_once, text)
    text = _DIGIT_GROUPING.sub("", text)
    text = _MONEY_SIGN.sub(lambda m: f" {m.group(2)} {_CURRENCY_OF_SIGN[m.group(1)]} ", text)
    text = _CLOCK_SUFFIX.sub(lambda m: f" {m.group(1)} {m.group(2)[0]}m ", text)
    text = re.sub(r"\b([ap])\.? ?m\b\.?", r"\1m", text)
    text = text.replace("%", " percent ").replace("&", " and ").replace("per cent", "percent")
    text = re.sub(r"\b(?:no longer|ya no)\b", "nolonger", text)
    text = UNUSABLE.sub(" unusable ", text)
    text = NEED_TO_HAND_OVER.sub(r"\1 have to \2", text)
    text = re.sub(r"\bat once\b", "atonce", text)  # "at once" is now, not the condition "once ..."
    text = re.sub(r"\s[\u2014\u2013-]+\s|\u2014|\u2013", ", ", text)  # a dash between words parts clauses
    text = ANSWER_NO.sub("", text)
    text = HOLD_ON.sub(lambda match: " espere " if match.group(0).startswith("no ") else " hold the line ", text)
    return HARMLESS_NEGATIONS.sub(" ", text)


def word_list(text: str) -> list[str]:
    """The words of a criterion or cue, normalized as heard text is (clause punctuation dropped)."""
    return [token for token in _TOKEN.findall(_normalize(text)) if token not in CLAUSE_PUNCTUATION]


def stemmed_phrase(text: str) -> tuple[str, ...]:
    """A term or cue as the stems it is matched on."""
    return tuple(stem(word) for word in word_list(text))


@dataclass(frozen=True)
class Sentence:
    """One heard sentence: its stemmed words and, per word, which moods and kinds of evidence it can
    support. Read-only: one analysis is shared by every call that hears the sentence."""

    text: str
    stems: tuple[str, ...]
    told: tuple[bool, ...]  # a plain statement: not asked, not hedged, not negated, not an echo
    asked: tuple[bool, ...]  # asked of the caller, not negated
    said: tuple[bool, ...]  # anything not negated
    starts: dict[str, list[int]]  # stem -> where it stands: a cue is only tried where its first word is
    words: tuple[str, ...] = ()
    told_or_asked: tuple[bool, ...] = ()  # told, or asked of the caller outside a question ("I'll need X")
    described: tuple[bool, ...] = ()  # told, or said as what can be had ("we can open accounts", "you can take X")
    acted: tuple[bool, ...] = ()  # told, not put to the caller, in a sentence without a failure
    acted_on_failure: tuple[bool, ...] = ()  # the same in a sentence with a failure ("unable to help; transferring")
    done: tuple[int, ...] = ()  # per word: NOT_DONE / DONE / COMMITTED, how its clause reports its act
    kinds: dict[str, tuple[int, ...]] = field(default_factory=dict)  # content kind -> where it is given
    labelled: tuple[bool, ...] = ()  # after a label's colon or full stop ("Next step: fee review in 3 days")
    doubted: bool = False  # a contrast followed by a negation: what it reports may have been undone
    takes_back: bool = False  # reports a failure, a retraction or a turn with a negation: may undo what came before

    def has(self, cue: tuple[str, ...], allowed: Optional[tuple[bool, ...]] = None) -> bool:
        """Whether the words of `cue` (never empty) stand together here, starting on an `allowed` word."""
        return next(self.positions(cue, allowed), None) is not None

    def positions(self, cue: tuple[str, ...], allowed: Optional[tuple[bool, ...]] = None) -> Iterator[int]:
        """Where the words of `cue` stand together, starting on an `allowed` word; one pronoun or adverb may
        stand inside a cue of several words ("give it back", "put you now through"), and a short object
        inside a verb and its particle ("pulled both of those charges back", "shut the card down")."""
        width = len(cue)
        stems = self.stems
        for i in self.starts.get(cue[0], ()):
            if allowed is not None and not allowed[i]:
                continue
            if stems[i:i + width] == cue or (width > 1 and _with_one_inside(stems, i, cue)) \
                    or _with_object_inside(stems, self.words, i, cue):
                yield i

    def base_after_auxiliary(self, index: int) -> bool:
        """Non-native perfect or passive with the plain verb ("I have order it", "the card is block already"):
        the word at `index` is no -ed or -ing form and follows "have" or "is" (adverbs between), which is not
        the caller's ("you have order") nor after a modal ("can be order")."""
        word = self.words[index]
        if _is_past(word) or word.endswith(("ing", "ed") + NOUN_ENDINGS) or word in STATE_WORDS:
            return False
        j = index - 1
        while j >= 0 and self.words[j] in ADVERBS:
            j -= 1
        if j < 0 or self.words[j] not in BASE_AUXILIARIES:
            return False
        before = self.words[j - 1] if j else ""
        return before not in YOU and before not in OPEN_MODALS and before != "to"

    def done_at(self, index: int) -> bool:
        """Whether the word at `index` is an act the sentence reports done (or firmly committed to): its
        clause is, and the word is not an infinitive ("to order") or the caller's act ("you ordered")."""
        if not self.done[index]:
            return False
        before = self.words[index - 1] if index else ""
        infinitive = before == "to" and (index < 2 or self.words[index - 2] not in ("going", "about", "have", "has"))
        passive = self.words[index] in ("be", "being", "been")  # "you're being transferred"
        subject = index - 1
        while subject > 0 and self.words[subject] in ADVERBS:  # "you already ordered one"
            subject -= 1
        callers = subject >= 0 and self.words[subject] in YOU
        return not infinitive and (not callers or passive)

    def gives(self, kind: str, allowed: tuple[bool, ...]) -> bool:
        return any(allowed[i] for i in self.kinds.get(kind, ()))


def _with_object_inside(stems: tuple[str, ...], words: tuple[str, ...], start: int, cue: tuple[str, ...]) -> bool:
    """Whether a verb-and-particle cue ("pull back", "shut down") stands at `start` split by its object: a
    determiner or pronoun opening at most OBJECT_WORDS words, none of which opens a clause or is a verb
    ("I pulled both of them back", never "I pulled up your account and it's back")."""
    if len(cue) != 2 or cue[1] not in PARTICLES or not words:
        return False
    for end in range(start + 2, min(start + 2 + OBJECT_WORDS, len(stems))):
        if stems[end] == cue[1]:
            gap = words[start + 1:end]
            return gap[0] in OBJECT_OPENERS and not any(word in NOT_IN_OBJECT for word in gap[1:])
    return False


def _with_one_inside(stems: tuple[str, ...], start: int, cue: tuple[str, ...]) -> bool:
    """Whether `cue` stands at `start` with one INSIDE_CUE word between two of its words."""
    for gap in range(1, len(cue)):
        split = start + gap
        if split < len(stems) and stems[split] in INSIDE_CUE and stems[start:split] == cue[:gap] \
                and stems[split + 1:split + 1 + len(cue) - gap] == cue[gap:]:
            return True
    return False


def split_sentences(text: str) -> list[str]:
    """Sentences of heard text; a transcript without any punctuation is also cut before embedded questions.
    A label of a word or two ("Available balance.") belongs to the sentence that follows it."""
    parts: list[str] = []
    for part in (part.strip() for part in SENTENCE_BREAK.split(text)):
        if not part:
            continue
        if parts and parts[-1].endswith(".") and len(parts[-1].split()) <= LABEL_WORDS \
                and not set(parts[-1].lower().rstrip(".").split()) & (SUBJECTS | CLAUSE_SUBJECTS):  # "We're sorry."
            parts[-1] = f"{parts[-1]} {part}"  # its full stop still ends a clause (CLAUSE_PUNCTUATION)
        elif parts and COPULA_PAUSE.search(parts[-1]):
            parts[-1] = f"{parts[-1][:-1]} {part}"
        else:
            parts.append(part)
    if not re.search(r"[.!?]", text):
        pieces: list[str] = []
        for part in parts:
            for piece in EMBEDDED_QUESTION.split(part):
                piece = piece.strip()
                if not piece:
                    continue
                if pieces and len(pieces[-1].split()) < MIN_SPLIT_WORDS:
                    pieces[-1] = f"{pieces[-1]} {piece}"
                else:
                    pieces.append(piece)
        parts = pieces
    return parts


def _starts_with(words: list[str], start: int, phrase: tuple[str, ...]) -> bool:
    return tuple(words[start:start + len(phrase)]) == phrase


def _skip_fillers(words: list[str], start: int = 0) -> int:
    skipped = True
    while skipped:
        skipped = False
        for filler in FILLERS:
            if _starts_with(words, start, filler) and start + len(filler) < len(words):
                start += len(filler)
                skipped = True
                break
    return start


def _opens_question(words: list[str]) -> bool:
    """Does a clause begin like a question ("can you ...", "what is ...", "is there ...")?"""
    start = _skip_fillers(words)
    if start >= len(words):
        return False
    first = words[start]
    following = words[start + 1] if start + 1 < len(words) else ""
    if first in WH_CONTRACTIONS:
        return True
    if first in WH_WORDS:  # "what is ...", and "which transaction was it" (a noun, then the verb)
        after_noun = words[start + 2] if start + 2 < len(words) else ""
        return following in WH_FOLLOWERS or (first == "which" and after_noun in AUXILIARIES)
    return first in AUXILIARIES and following in SUBJECTS


def _by_first_word(markers: tuple[tuple[str, ...], ...]) -> dict[str, tuple[tuple[str, ...], ...]]:
    """Markers grouped by their first word, in their own order: a word is only tried against its markers."""
    grouped: dict[str, list[tuple[str, ...]]] = {}
    for marker in markers:
        grouped.setdefault(marker[0], []).append(marker)
    return {word: tuple(group) for word, group in grouped.items()}


FILLER_WORDS = frozenset(word for filler in FILLERS for word in filler)
_REQUEST_MARKERS_BY_WORD = _by_first_word(REQUEST_MARKERS)
_TENTATIVE_MARKERS_BY_WORD = _by_first_word(TENTATIVE_MARKERS)
_DIRECTED_MARKERS_BY_WORD = _by_first_word(DIRECTED_MARKERS)
_ECHO_MARKERS_BY_WORD = _by_first_word(ECHO_MARKERS)
_RETRACTIONS_BY_WORD = _by_first_word(RETRACTIONS)
_FAILURES_BY_WORD = _by_first_word(FAILURES)
_INABILITIES_BY_WORD = _by_first_word(INABILITIES)
_OTHERS_BY_WORD = _by_first_word(OTHERS)
_STAFF_BY_WORD = _by_first_word(STAFF)
_PLAN_LEADS_BY_WORD = _by_first_word(PLAN_LEADS)
_UNCONDITIONALS_BY_WORD = _by_first_word(UNCONDITIONALS)
_CORRECTIONS_BY_WORD = _by_first_word(CORRECTIONS)


def _first_marker(words: list[str], markers_by_word: dict[str, tuple[tuple[str, ...], ...]],
                  exceptions: Optional[dict[tuple[str, ...], frozenset[str]]] = None) -> int:
    """Index of the first word of the earliest marker in the sentence, or len(words) if none."""
    exceptions = exceptions or {}
    for index, word in enumerate(words):
        for marker in markers_by_word.get(word, ()):
            if _starts_with(words, index, marker):
                after = index + len(marker)
                if after < len(words) and words[after] in exceptions.get(marker, ()):
                    continue
                return index
    return len(words)


def _marker_starts(words: list[str], markers_by_word: dict[str, tuple[tuple[str, ...], ...]]) -> list[int]:
    return [index for index, word in enumerate(words)
            if any(_starts_with(words, index, marker) for marker in markers_by_word.get(word, ()))]


def _failure_starts(words: list[str]) -> list[int]:
    """Where the sentence reports an act failing; see CONSEQUENCE_LEADS and ATTRIBUTIVE_FAILURES."""
    starts = []
    for index in _marker_starts(words, _FAILURES_BY_WORD):
        following = words[index + 1] if index + 1 < len(words) else ""
        if index and words[index - 1] in NAMING_DETERMINERS and words[index] in ATTRIBUTIVE_FAILURES \
                and following and following not in CLAUSE_WORDS and following not in AUXILIARIES:
            continue
        if any(_starts_with(words, lead, marker) for lead in range(1, index) for marker in CONSEQUENCE_LEADS):
            continue
        starts.append(index)
    return starts


def _is_past(word: str, alone: bool = False) -> bool:
    """A past form; `alone` (no auxiliary before it) also refuses words mostly heard as adjectives
    ("your registered address"), which after "has been" are verbs ("has been registered")."""
    if word in IRREGULAR_PAST:
        return True
    return word.endswith("ed") and len(word) > 4 and not word.endswith("eed") and not (alone and word in NOT_PAST)


def _is_ing(word: str) -> bool:
    return word.endswith("ing") and len(word) > 5 and word not in NOT_ING


def _next_verb(words: list[str], index: int) -> str:
    """The first word after `index` that is not an adverb between an auxiliary and its verb."""
    index += 1
    while index < len(words) and words[index] in ADVERBS:
        index += 1
    return words[index] if index < len(words) else ""


def _pronoun_that_in(words: list[str]) -> bool:
    """"we don't have that for business accounts": "that" standing for a thing, not before its noun."""
    return any(word == "that" and (i + 1 == len(words) or words[i + 1] in AFTER_PRONOUN_THAT)
               for i, word in enumerate(words))


def _month_may(words: list[str], index: int) -> bool:
    """"on May third", "since 3 May": the month, no modal hedge."""
    if words[index] != "may":
        return False
    following = words[index + 1] if index + 1 < len(words) else ""
    previous = words[index - 1] if index else ""
    return _is_number(following) or _is_number(previous) or previous in ("in", "of", "since", "until", "from", "last")


def _reports_own_act(words: list[str], act: int) -> bool:
    """A clause in which the speaker reports its own act done ("and I've filed it"): no condition or hedge
    before it in the sentence can govern what is already done."""
    first = _skip_fillers(words)
    return act == DONE and first < len(words) and words[first] in PERFECT_SPEAKERS


def _before_adverbs(words: list[str], index: int, start: int) -> str:
    """The word before `index` and the adverbs in between ("is" in "your call is now going to ...")."""
    index -= 1
    while index > start and words[index] in ADVERBS:
        index -= 1
    return words[index] if index >= start else ""


def _clause_act(words: list[str]) -> int:
    """How one clause reports its act (NOT_DONE, DONE, COMMITTED); see the module docstring."""
    start = _skip_fillers(words)
    if start < len(words) and _is_ing(words[start]) and _gerund_subject(words, start):
        return NOT_DONE  # what an act would do ("blocking it will stop payments"), not that it was done
    usual = False  # "cards are normally issued": what is usual, so a clause-final participle reports nothing
    if _headline_passive(words, start):
        return DONE
    for j in range(start, len(words)):
        word = words[j]
        before = words[j - 1] if j > start else ""
        after = words[j + 1] if j + 1 < len(words) else ""
        if word in PRESENTING and after in ("your", "the") and any(
                _is_past(w, alone=True) for w in words[j + 2:j + 6]):
            return DONE
        if word == "going" and after == "to" and before in ("was", "were"):
            continue  # "I was going to refund it": an intention given up
        if word in FUTURE or (word == "going" and after == "to" and _before_adverbs(words, j, start) in BE):
            if word in YOU or before in YOU:  # the caller's own future ("you'll be transferred": see BE)
                continue
            return COMMITTED
        if word in ("have", "has") and after == "to" and before in ("i", "we"):
            return COMMITTED  # "I have to pass you to another office": announced, not the caller's duty
        if word in ("have", "has") and before in ("i", "we") and _next_verb(words, j) in BARE_PERFECT_VERBS:
            return DONE
        if word in HAVE or word.endswith("'ve"):
            verb = _next_verb(words, j)
            if _is_past(verb) and (word not in YOU and before not in YOU or "been" in words[j:]):
                return DONE
        if word in BE or word.endswith(("'s", "'re", "'m")):
            verb = _next_verb(words, j)
            if word == "are" and before in ("we", "they") and _is_ing(verb):
                return DONE  # "we are connecting you"
            if word == "are" and _is_past(verb) and NOW_WORDS & set(words[j + 1:j + 5]):
                return DONE  # "the charges are reversed now": this moment, not what is usual
            if before in OPEN_MODALS or (word == "are" and not DEFINITE & set(words[:j])) \
                    or (word == "be" and before not in FUTURE):
                usual = usual or word == "are"
                continue  # "can be ordered", "asked that it be waived"; "cards are issued daily" is what is usual
            if _is_past(verb) or (_is_ing(verb) and word not in YOU and before not in YOU):
                return DONE
        if _is_past(word, alone=True) and (before in AGENTS | COMPLETED or (
                j == len(words) - 1 and j > start and not usual and before not in YOU | BE | OPEN_MODALS
                and before != "to")):
            return DONE
        if j == start and _is_ing(word):
            return DONE
        if j == start == len(words) - 1 and _is_past(word, alone=True):
            return DONE  # a label's value: "Lost card: blocked."
        if before == "i" and word not in NOT_PERFORMATIVE and not _is_past(word) and not _is_ing(word):
            return DONE  # "I cancel your card now", "I confirm ...": the speaker's act as it is said
        if word == "let" and after == "me":
            return COMMITTED
        if word == "while" and after in ("i", "we", "i'm", "we're", "im"):
            return DONE
        if word in COMPLETE and (j == len(words) - 1 or before in BE):
            return DONE  # "Card reissue complete.", "your refund is done"
    return NOT_DONE


def _headline_passive(words: list[str], start: int) -> bool:
    """"Complaint received regarding your fee.", "Monthly fee of 8 pounds returned to your account.": a
    headline's passive, a thing and then its participle with no auxiliary anywhere in the clause (an IVR's
    report), not a participle qualifying a subject whose verb comes later ("cards ordered today ship")."""
    for j in range(start + 1, min(len(words), start + HEADLINE_REACH)):
        if _is_past(words[j], alone=True):
            return not any(word in HEADLINE_BREAKERS or word in SUBJECT_PRONOUNS or word in YOU
                           for word in words[start:j]) \
                and not any(word in HEADLINE_BREAKERS or word in USUAL_VERBS for word in words[j + 1:])
    return False


def _gerund_subject(words: list[str], index: int) -> bool:
    """"Blocking your card will stop payments": an -ing word that opens a clause with a verb of its own
    names an act; "Transferring you to an agent" reports one under way."""
    return any(word in FUTURE | BE | HAVE | OPEN_MODALS or word in ("does", "do", "means", "takes", "stops")
               for word in words[index + 1:])


def _negation(word: str) -> bool:
    """"not", "can't", and a negative word with its verb joined on ("nothing's been started")."""
    return word in NEGATIONS or word.endswith(NEGATION_SUFFIX) or word.split("'")[0] in NEGATIONS


def _names_ability(words: list[str], modal: int) -> bool:
    """"outside what I can do": a modal after "what I" names what the agent can do and hedges nothing, unless
    the sentence goes on to offer it ("what I can do is order you one")."""
    return modal > 1 and words[modal - 2] in NAMING_ABILITY and words[modal + 1:modal + 3] not in (["do", "is"],
                                                                                                   ["do", "for"])


def _elliptical_request(words: list[str]) -> bool:
    """"and the full card number too", "and the PIN as well so I can verify": a verbless "and the X" with an
    additive ending goes on with what the agent was asking for."""
    start = _skip_fillers(words)  # "and" is one of the fillers
    if "and" not in words[:start] or start >= len(words) or words[start] not in ("the", "your"):
        return False
    for i in range(start + 1, len(words)):
        if words[i] in ADDITIVE_ENDINGS:  # "and the fee too has been refunded" reports
            return not any(word in AUXILIARIES | BE | HAVE | FUTURE for word in words[start:i] + words[i + 1:i + 3])
    return False


def _cut_off_negation(words: list[str]) -> bool:
    """Whether a clause ends in a negated auxiliary whose verb comes after an aside ("please do not, ...")."""
    if not words:
        return False
    last = words[-1]
    return last in ("don't", "dont", "never") or (last == "not" and len(words) > 1 and words[-2] in CUT_OFF_BEFORE_NOT)


def _opens_clause(token: str, following: str, words: list[str], clause_start: int) -> bool:
    """Whether `token` opens a new clause inside running words without punctuation: a subject after an object
    or a clause ending, "let me" and "no need" after anything ("it's blocked now you don't need to",
    "that's not something I do here let me put you through"), a main clause's subject after a condition
    ("if you don't recognise it we can dispute it"), or a question word early on ("for verification whats
    your pin")."""
    previous = words[-1]
    if token in SUBJECT_PRONOUNS and previous in OBJECT_ENDINGS or token in CLAUSE_SUBJECTS and previous in HESITATIONS:
        return True
    about_that = previous == "that" and len(words) > 1 and words[-2] in ("about", "for", "with", "like")
    if token in CLAUSE_SUBJECTS and (previous in CLAUSE_ENDINGS or about_that or (
            words[clause_start] in SUBORDINATORS and len(words) - clause_start >= 3)):
        return True
    if (token, following) in (("let", "me"), ("no", "need")):
        return True
    # "to dispute a payment you don't recognise, press 3": a relative clause without "that" after a noun keeps
    # its negation to itself
    if token == "you" and _negation(following) and previous not in CLAUSE_WORDS | AUXILIARIES | SUBJECTS \
            and previous not in DETERMINERS | FILLER_WORDS | NOT_A_NOUN:
        return True
    # "no tengo acceso a eso la comunico con un asesor": a Spanish clitic before the agent's act starts one
    if token in SPANISH_CLITICS and following in SPANISH_FIRST_PERSON_ACTS \
            and previous not in CLAUSE_WORDS | SPANISH_BEFORE_CLITIC:
        return True
    # "the payment which you did not recognise was made to Green Grocer": the main verb after a relative
    # clause with its own subject resumes the sentence
    if token in RESUMING_VERBS and words[clause_start] in RELATIVES and len(words) - clause_start >= 3 \
            and words[clause_start + 1] in SUBJECTS:
        return True
    # "i hear you thats not good enough ive logged it": a first person with its auxiliary starts a clause
    if token in SUBJECT_AUXILIARIES and previous not in CLAUSE_WORDS | WH_WORDS | RELATIVE_LEADS:
        return True
    return token in WH_CONTRACTIONS and len(words) < LEAD_IN_WORDS


def _elided_passive(words: list[str], previous_act: int) -> bool:
    """"... have been cancelled and the sums credited back": an "and" clause whose participle shares the
    auxiliary of a previous clause that reported a thing done."""
    return previous_act == DONE and bool(words) and words[0] == "and" and any(
        _is_past(word, alone=True) for word in words[2:ELIDED_REACH])


def _inherits(words: list[str]) -> bool:
    """A clause that goes on with the previous one's verb phrase ("I've blocked it and ordered a new one")."""
    if not words or words[0] not in ("and", "then"):
        return False
    following = words[1] if len(words) > 1 else ""
    return bool(following) and following not in SUBJECTS | DETERMINERS | OPEN_MODALS | FUTURE | YOU | AGENTS \
        and following not in HAVE and following not in BE


def _is_number(word: str) -> bool:
    return word.isdigit() or word in NUMBER_WORDS or word in ORDINALS or bool(re.fullmatch(r"\d+(?:st|nd|rd|th)",
                                                                                              word)) \
        or bool(_DECIMAL.fullmatch(word))


def _decimal_kind(word: str) -> Optional[str]:
    """What a written decimal gives: "clock" ("9.30"), "money" (two decimals: "49.99"), or None ("6.9")."""
    match = _DECIMAL.fullmatch(word)
    if match is None:
        return None
    whole, fraction = match.groups()
    if int(whole) <= 24 and fraction in CLOCK_MINUTES:
        return "clock"
    return "money" if len(fraction) == 2 else None


def _clock_follows(words: list[str], index: int) -> bool:
    """Whether the words from `index` go on with a time ("one thirty", "one pm", "one o'clock") or end it."""
    return index >= len(words) or words[index] in CLOCK_WORDS or _is_number(words[index])


def _dated(words: list[str], index: int) -> bool:
    """An ordinal is a number only in a date ("the fifth", "June first", "the 3rd of May"); "details first"
    and "just a second" are not."""
    before = words[index - 1] if index else ""
    after = words[index + 1] if index + 1 < len(words) else ""
    return (before == "the" and after not in ORDINAL_NOUNS) or before in MONTHS or after == "of"


def _identifier_digits(words: list[str]) -> set[int]:
    """Digits that name a thing, not an amount: "the account ending seven three oh five", "reference 4 4 1 9"."""
    found: set[int] = set()
    for i, word in enumerate(words):
        if word in IDENTIFIER_LEADS:
            j = i + 2 if i + 1 < len(words) and words[i + 1] in ("in", "with", "number") else i + 1
            while j < len(words) and (_is_number(words[j]) or words[j] in ("oh", "double")):
                found.add(j)
                j += 1
    return found


def _content(words: list[str]) -> dict[str, tuple[int, ...]]:
    """Where the sentence gives an amount, a number, a rate, a clock time, a duration, a date or a weekday."""
    found: dict[str, list[int]] = {kind: [] for kind in CONTENT_KINDS}
    count = len(words)
    identifiers = _identifier_digits(words)
    for i, word in enumerate(words):
        number = _is_number(word) and word not in ("oh", "half") and (word not in ORDINALS or _dated(words, i)) \
            and not DIGIT_ORDINAL.fullmatch(word) \
            and not (word == "one" and i and words[i - 1] in PRONOUN_ONE_AFTER)  # "the one in our app"
        if number and i in identifiers:
            continue
        if number and not (i + 1 < count and words[i + 1] in COUNTED):  # "two accounts" is no amount
            found["number"].append(i)
        decimal = _decimal_kind(word)
        if decimal is not None and not (decimal == "money" and i + 1 < count and words[i + 1] == "percent"):
            found[decimal].append(i)
        if word in CURRENCIES and any(_is_number(w) for w in words[max(0, i - 3):i]):
            found["money"].append(i)
        if word in CURRENCY_CODES and i + 1 < count and _is_number(words[i + 1]):
            found["money"].append(i)
        if word == "percent" and any(_is_number(w) for w in words[max(0, i - 3):i]):
            found["percent"].append(i)
        if word == "apr" and any(_is_number(w) for w in words[max(0, i - 4):i + 4]):
            found["percent"].append(i)
        if word == "point" and 0 < i < count - 1 and _is_number(words[i - 1]) and _is_number(words[i + 1]):
            found["percent"].append(i)
        if word in CLOCK_WORDS and (word not in ("am", "pm") or (i and _is_number(words[i - 1]))):
            found["clock"].append(i)
        if word in ("at", "until", "till", "til", "from", "after", "before") and i + 1 < count \
                and _is_number(words[i + 1]) and not (i + 2 < count and (words[i + 2] in UNITS | CURRENCIES
                                                                         or words[i + 2] in ("percent", "business",
                                                                                             "working"))) \
                and not (words[i + 1] == "one" and not _clock_follows(words, i + 2)):  # "from one branch to"
            found["clock"].append(i)
        if word == "past" and i and words[i - 1] in ("half", "quarter") and i + 1 < count \
                and _is_number(words[i + 1]):
            found["clock"].append(i)
        if number and i + 1 < count:
            nxt = words[i + 1]
            if (_is_number(nxt) and nxt not in ("hundred", "thousand", "million", "billion")
                    and word not in ("hundred", "thousand", "million", "billion", "twenty", "thirty", "forty",
                                     "fifty", "sixty", "seventy", "eighty", "ninety")) \
                    or (nxt in RANGE_WORDS and i + 2 < count and _is_number(words[i + 2])
                        and words[i + 2] not in ("hundred", "thousand")) \
                    or (nxt in ("in", "at") and i + 3 < count and words[i + 2] == "the"
                        and words[i + 3] in ("morning", "evening", "afternoon")):
                found["clock"].append(i)
        counted = i and (words[i - 1] in AMOUNT_WORDS or _is_number(words[i - 1]))
        counted_working = i > 1 and words[i - 1] in ("business", "working", "calendar") \
            and (words[i - 2] in AMOUNT_WORDS or _is_number(words[i - 2]))
        if word in UNITS and (counted or counted_working):
            found["duration"].append(i)
        elif word in MISHEARD_UNITS and (counted_working or (
                i > 2 and words[i - 2] in RANGE_WORDS and _is_number(words[i - 1]) and _is_number(words[i - 3]))):
            found["duration"].append(i)
        if word in DAY_WORDS or (word in ("week", "month") and i and words[i - 1] in ("next", "this")):
            found["duration"].append(i)
            found["date"].append(i)
        if word in WEEKDAYS:
            found["weekday"].append(i)
            found["date"].append(i)
        if word in MONTHS and (word != "may" or any(_is_number(w) for w in words[max(0, i - 3):i + 3])):
            found["date"].append(i)
    return {kind: tuple(positions) for kind, positions in found.items() if positions}


@lru_cache(maxsize=ANALYSED_SENTENCES)
def analyse(text: str) -> Sentence:
    """One heard sentence read once into stems and per-word flags (cached: agents repeat themselves)."""
    ends_in_question = text.rstrip().endswith("?")
    normalized = _normalize(text)
    words: list[str] = []
    clause_of: list[int] = []
    clause = 0
    label_end = -1  # words before this index form a label
    tokens = _TOKEN.findall(normalized)
    clause_start = 0  # index in words where the current clause starts
    for position, token in enumerate(tokens):
        if token in CLAUSE_PUNCTUATION:
            clause += 1
            clause_start = len(words)
            if token in (":", ".") and words:
                label_end = len(words)
            continue
        following = tokens[position + 1] if position + 1 < len(tokens) else ""
        # "you can't do that on the website", "if that wasn't you we can dispute it": a pronoun, no new clause
        pronoun_that = token == "that" and (following in AFTER_PRONOUN_THAT
                                            or bool(words) and words[-1] in SUBORDINATORS | {"and", "but", "so", "all"})
        # "I don't need your PIN or the card number": "or" before a noun joins two nouns, not two clauses
        joins_nouns = token in ("or", "nor") and following in DETERMINERS
        # "they can see the balance I can't": an elliptical negation at the end negates only itself
        elliptical = token in SUBJECT_PRONOUNS and _negation(following) and position + 2 == len(tokens)
        if words and clause_of[-1] == clause and (
                (token in CLAUSE_WORDS and not pronoun_that and not joins_nouns)
                or elliptical or _opens_clause(token, following, words, clause_start)):
            clause += 1
            clause_start = len(words)
        words.append(token)
        clause_of.append(clause)
    count = len(words)
    # "So the plan is: ...", "here's what happens ...": what follows a plan's lead-in is laid out like a label's
    lead_in = _first_marker(words, _PLAN_LEADS_BY_WORD)
    if lead_in < count:
        length = next(len(lead) for lead in PLAN_LEADS if tuple(words[lead_in:lead_in + len(lead)]) == lead)
        label_end = min(label_end, lead_in + length) if label_end >= 0 else lead_in + length
    clauses: list[list[str]] = [[] for _ in range(clause + 1)]
    for word, number in zip(words, clause_of):
        clauses[number].append(word)
    questioning = [False] * len(clauses)
    in_question = False
    relatives: set[int] = set()
    for number, clause_words in enumerate(clauses):
        if number and clause_words and clause_words[0] in RELATIVES and clauses[number - 1] \
                and clauses[number - 1][-1] not in FILLER_WORDS | REPORTING:  # "someone who can help"
            relatives.add(number)
        announced = number and clauses[number - 1] and clauses[number - 1][-1] in ANNOUNCING
        in_question = in_question or (number not in relatives and not announced and _opens_question(clause_words))
        questioning[number] = in_question
    if ends_in_question and words:
        questioning[clause_of[-1]] = True
        # "Would next Tuesday work, or do you need it sooner?", "Which documents you have?": a sentence that
        # ends in a question mark and opens like one is a question throughout.
        first = _skip_fillers(clauses[0]) if clauses[0] else 0
        opener = clauses[0][first] if first < len(clauses[0]) else ""
        if opener in AUXILIARIES or opener in WH_WORDS or opener in WH_CONTRACTIONS:
            questioning = [True] * len(clauses)
    # "Sorry? Could you repeat that?", "sorry whats that": a pardon asks for a repeat and apologises for nothing.
    after_pardons = next((i for i, word in enumerate(words) if word not in PARDONS), count)
    pardon = after_pardons > 0 and (ends_in_question or _opens_question(words[after_pardons:]))
    # "Online banking?": a few words asked back without a verb check what the caller said; they offer nothing.
    checked_back = ends_in_question and count <= CHECK_BACK_WORDS and not any(
        word in AUXILIARIES or word in SUBJECTS or word in YOU for word in words)
    negated_clause = [any(_negation(w) for w in clause_words) for clause_words in clauses]
    # "Please do not, under any circumstances, read out your PIN": a negation cut off from its verb by an aside
    # reaches over the aside to the verb.
    for number in range(len(clauses) - 1):
        if _cut_off_negation(clauses[number]):
            reach = number + 1
            while reach < len(clauses) - 1 and 0 < len(clauses[reach]) <= TOPIC_WORDS \
                    and clauses[reach][0] in ASIDE_OPENERS:
                negated_clause[reach] = True
                reach += 1
            negated_clause[reach] = True
    # "never your card number or PIN": a short "or" clause without a subject shares the negation before it.
    for number in range(1, len(clauses)):
        clause_words = clauses[number]
        if clause_words and clause_words[0] in ("or", "nor") and len(clause_words) <= OR_ITEM_WORDS \
                and not (CLAUSE_SUBJECTS | AUXILIARIES | BE | HAVE) & set(clause_words) and negated_clause[number - 1]:
            negated_clause[number] = True
    # "Disputes, which must be raised in time, are not available here": a negated predicate without a subject
    # negates the subject before the relative clause between them.
    for number in range(1, len(clauses)):
        clause_words = clauses[number]
        if clause_words and clause_words[0] in AUXILIARIES and negated_clause[number]:
            subject = number - 1
            while subject > 0 and subject in relatives:
                subject -= 1
            if subject != number - 1:
                negated_clause[subject:number] = [True] * (number - subject)
    # "The online banking, we don't have it": a short topic before a negated clause about it shares the negation.
    # An answer or an apology may stand between them ("Online, no, we don't have that service").
    for number in range(len(clauses) - 1):
        topic = clauses[number]
        if not 0 < len(topic) <= TOPIC_WORDS or (SUBJECTS | CLAUSE_SUBJECTS) & set(topic):
            continue
        about = number + 1
        while about < len(clauses) - 1 and tuple(clauses[about]) in TOPIC_ASIDES:
            about += 1
        if negated_clause[about] and (OBJECT_ENDINGS & set(clauses[about]) or _pronoun_that_in(clauses[about])
                                      or (set(topic) - DETERMINERS) & set(clauses[about])):
            negated_clause[number] = True
    # "That payment isn't one we can challenge": what a negated "one" or "something" names is negated too.
    for number in range(1, len(clauses)):
        named = clauses[number - 1]
        if negated_clause[number - 1] and named and named[-1] in NAMED_BY_NEGATION \
                and clauses[number][:1] and clauses[number][0] in SUBJECT_PRONOUNS \
                and clauses[number][1:2] and clauses[number][1] in OPEN_MODALS:
            negated_clause[number] = True
    # "What I can't do, I'm afraid, is give back the fee": a negated "what" clause negates what it names.
    for number, clause_words in enumerate(clauses):
        if negated_clause[number] and clause_words and clause_words[0] == "what" and not ends_in_question:
            negated_clause[number:] = [True] * (len(clauses) - number)
            break
    acts: list[int] = []
    for number, clause_words in enumerate(clauses):
        act = _clause_act(clause_words)
        if not act and number and (_inherits(clause_words) or _elided_passive(clause_words, acts[-1])):
            act = acts[-1]
        acts.append(act)
    # Flags that reach from a marker to the end of the sentence.
    # "that's everything I need": a need named as met closes the asking, it asks for nothing
    request_from = 0 if _elliptical_request(words) else next(
        (i for i in _marker_starts(words, _REQUEST_MARKERS_BY_WORD) if not (i and words[i - 1] in NAMED_NEEDS)), count)
    for number, clause_words in enumerate(clauses):
        first = _skip_fillers(clause_words)
        if first < len(clause_words) and clause_words[first] in REQUEST_VERBS and number in clause_of:
            request_from = min(request_from, clause_of.index(number) + first)
            break
    if words and words[-1] == "please":  # "and the security code on the back, please"
        # ... from the start, or after the last clause that reports the agent's act ("I'll transfer you now,
        # hold the line please" asks only for the holding)
        last_act = max((number for number, act in enumerate(acts) if act), default=-1)
        request_from = min(request_from, clause_of.index(last_act + 1) if last_act + 1 in clause_of else count)
    # What a relative clause says someone can do ("a colleague who can take it from here") hedges nothing,
    # nor does a purpose ("I'm connecting you to a colleague so they can take a look").
    purposes = {number for number, clause_words in enumerate(clauses)
                if clause_words[:1] == ["so"] and len(clause_words) > 2 and clause_words[1] in PURPOSE_SUBJECTS
                and clause_words[2] in ("can", "could")}
    outside_relatives = [word if clause_of[i] not in relatives | purposes else "" for i, word in enumerate(words)]
    for i in range(1, count - 1):
        if words[i] in ("i", "we") and words[i + 1] in ("can", "could") and _names_ability(words, i + 1):
            outside_relatives[i] = outside_relatives[i + 1] = ""
    hedge_from = _first_marker(outside_relatives, _TENTATIVE_MARKERS_BY_WORD, TENTATIVE_EXCEPTIONS)
    for i, word in enumerate(words):
        if word in HEDGE_MODALS and (not i or words[i - 1] not in YOU) and not questioning[clause_of[i]] \
                and not _month_may(words, i) \
                and not _names_ability(words, i):
            hedge_from = min(hedge_from, i)
            break
    if len(words) > 1 and words[0] in INVERTED_CONDITIONS and (words[1] in DETERMINERS or words[1] in SUBJECTS) \
            and not ends_in_question:
        hedge_from = 0  # "Should the review find in your favour, the fee will be refunded."
    # A condition ("if", "once") or a retraction makes every commitment of the sentence conditional; a modal
    # hedge ("there may be a short wait") only its own clause and what follows it.
    modal = hedge_from < count and words[hedge_from] in CLAUSE_HEDGES | HEDGE_MODALS
    if hedge_from < count and words[hedge_from] in CLAUSE_HEDGES:  # "A review within days might be possible"
        hedge_from = clause_of.index(clause_of[hedge_from])
    begun = next((i + 1 for i, word in enumerate(words[:-1]) if word in BEGINNINGS and _is_ing(words[i + 1])), count)
    hedge_from = min(hedge_from, begun)  # "I've started filling in the replacement form": nothing ordered yet
    directed_from = _first_marker(words, _DIRECTED_MARKERS_BY_WORD)
    for number, clause_words in enumerate(clauses):
        first = _skip_fillers(clause_words)
        opener = clause_words[first] if first < len(clause_words) else ""
        # "To get a new card, ..." states a purpose; "Visit a branch" is an imperative; "Just to confirm: ..."
        # introduces what the agent reports.
        following = clause_words[first + 1] if first + 1 < len(clause_words) else ""
        if ((opener == "to" and following not in REPORT_LEAD_INS) or opener in DIRECTED_VERBS and not acts[number]) \
                and number in clause_of:
            directed_from = min(directed_from, clause_of.index(number) + first)
            break
    if MENU_KEYS.search(" ".join(words)):
        directed_from = hedge_from = 0
    retraction = _first_marker(words, _RETRACTIONS_BY_WORD)
    retracted = retraction < count and not any(word in CONSEQUENCES for word in words[retraction:])
    # "... was ordered for your husband, but for your card there is nothing yet", "I did reverse it, but the
    # merchant re-presented it, so it's still on your account": what came before the contrast is in doubt.
    # A contrast that opens the sentence ("Regrettably, I can't help with that, so I'm transferring you")
    # has nothing of its own sentence before it: it may only take back an earlier sentence.
    opening = _skip_fillers(words)
    contrast = next((i for i, word in enumerate(words) if word in CONTRASTS and i > opening), count)
    turn = next((i for i, word in enumerate(words) if word in TURNS), count)
    takes_back_turn = any(_negation(word) or word in DOUBTING for word in words[turn + 1:])
    doubted = takes_back_turn and turn > opening
    inability = contrast + _first_marker(words[contrast:], _INABILITIES_BY_WORD)
    # "... but I can't override it, so I'm putting you through": the inability takes back what came before
    # it, not what it brings about
    consequence = next((i for i in range(inability + 1, count) if words[i] in CONSEQUENCES), count)
    withdrawn_until = count if retracted else (consequence if inability < count else 0)
    retracted = withdrawn_until >= count
    # "Your balance was 1,900, oh hang on, no, that's the joint account": a self-correction withdraws what
    # came before it
    withdrawn_until = max([withdrawn_until] + [i for i in _marker_starts(words, _CORRECTIONS_BY_WORD) if i])
    # "I had requested the card, however I've had to cancel that request": a pluperfect act, then a turn
    pluperfect = next((i for i in range(count - 2) if words[i] in ("i", "we") and words[i + 1] == "had"
                       and _is_past(_next_verb(words, i + 1))), count)
    turned_at = next((i for i in range(pluperfect + 2, count) if words[i] in CONTRASTS), count)
    if turned_at < count:
        withdrawn_until = max(withdrawn_until, turned_at)
    if doubted:  # "I started the order, but I can't finish it, so I'm transferring you": undone, then an act
        undoing = next(i for i in range(turn + 1, count) if _negation(words[i]) or words[i] in DOUBTING)
        after = next((i for i in range(undoing + 1, count) if words[i] in CONSEQUENCES), count)
        if after < count:
            doubted, withdrawn_until = False, max(withdrawn_until, after)
    third_parties = _marker_starts(words, _OTHERS_BY_WORD)
    if any(word.split("'")[0] in PAST_TIME for word in words):  # "last week", "yesterday's call"
        third_parties += _marker_starts(words, _STAFF_BY_WORD)
    others = {clause_of[i] for i in third_parties
              if (not i or words[i - 1] not in OTHERS_EXCEPT_AFTER or words[i] in ("your", "a", "another", "other"))
              and acts[clause_of[i]] != COMMITTED}
    others |= {number + 1 for number in others if len(clauses[number]) <= TOPIC_WORDS and number < clause}
    failures = _failure_starts(words)
    failed = bool(failures)
    void_from = count if hedge_from >= count and not retracted else (hedge_from if modal and not retracted else 0)
    hedge_until = count if hedge_from >= count or retracted \
        else hedge_from + _first_marker(words[hedge_from:], _UNCONDITIONALS_BY_WORD)
    if hedge_until < count or hedge_from >= count or retracted:
        pass
    else:  # "when you'd only gone over by a dollar is frustrating, and I've put that on record": none governs it
        hedge_until = next((clause_of.index(number) for number in range(clause_of[hedge_from] + 1, len(clauses))
                            if _reports_own_act(clauses[number], acts[number])), count)
    hedged = [hedge_from <= i < hedge_until for i in range(count)]
    echoed = [False] * count
    for start in _marker_starts(words, _ECHO_MARKERS_BY_WORD):
        # "the two debits you asked about are your gym and a grocery": an echo after a noun only qualifies it
        qualifying = 0 < start and words[start - 1] not in FILLER_WORDS | CLAUSE_WORDS | AUXILIARIES \
            and any(word in QUALIFIED_VERBS for word in words[start + 2:])
        if start and words[start - 1] in CONDITION_LEADS:
            continue  # "should you wish to dispute it, I can start that": a condition, no echo
        if start and words[start - 1] in NAMED_NEEDS:  # "I've written up everything you said": only the echo
            for i in range(start, min(count, start + 2)):
                echoed[i] = True
            continue
        # "Can I do it online, you're asking?": a report of the caller's words that ends the sentence
        ends = any(start + len(marker) == count and _starts_with(words, start, marker) and REPORTED & set(marker)
                   for marker in _ECHO_MARKERS_BY_WORD[words[start]])
        if ends or (not qualifying and start <= CHECK_BACK_WORDS and clause_of[start] == clause_of[0]):
            start = 0  # "online banking you said? what about it"
        for i in range(start, count):
            if qualifying and i > start + 1 and (words[i] in QUALIFIED_VERBS or clause_of[i] != clause_of[start]):
                break  # "the charge you asked about, the one for $42, is ...": the echo qualifies its noun only
            if i > start and i == label_end:  # "like you asked: available now is $1,476"
                break
            if i > start and clause_of[i] != clause_of[i - 1]:
                clause_words = clauses[clause_of[i]]
                first = _skip_fillers(clause_words)
                if first < len(clause_words) and clause_words[first] in FIRST_PERSON:
                    break
            echoed[i] = True
    negated = [negated_clause[clause_of[i]] for i in range(count)]
    not_callers = [clause_of[i] in others for i in range(count)]
    asked = [questioning[clause_of[i]] or i >= request_from for i in range(count)]
    told = [not (asked[i] or negated[i] or echoed[i] or not_callers[i] or hedged[i] or i < withdrawn_until)
            for i in range(count)]
    menu = bool(MENU_KEYS.search(" ".join(words)))
    described = [not (questioning[clause_of[i]] or negated[i] or echoed[i] or not_callers[i] or i < withdrawn_until
                      or menu)
                 for i in range(count)]
    told_or_asked = [not (questioning[clause_of[i]] or negated[i] or echoed[i] or not_callers[i]
                          or hedged[i] or i < withdrawn_until) for i in range(count)]
    failed_clauses = {clause_of[i] for i in failures}  # "the transfer failed"
    acted_on_failure = [told[i] and i < directed_from and clause_of[i] not in failed_clauses for i in range(count)]
    acted = [flag and not failed for flag in acted_on_failure]
    done = [acts[clause_of[i]] if not (void_from <= i < hedge_until and acts[clause_of[i]] == COMMITTED) else NOT_DONE
            for i in range(count)]
    stems = tuple(stem(word) for word in words)
    starts: dict[str, list[int]] = {}
    for index, word_stem in enumerate(stems):
        starts.setdefault(word_stem, []).append(index)
    return Sentence(
        text=text.strip(), stems=stems, told=tuple(told),
        asked=tuple(asked[i] and not negated[i] and not not_callers[i] for i in range(count)),
        said=tuple(not (negated[i] or not_callers[i] or echoed[i] or checked_back
                        or (pardon and clause_of[i] == 0)) for i in range(count)), starts=starts, words=tuple(words),
        told_or_asked=tuple(told_or_asked), described=tuple(described), acted=tuple(acted),
        acted_on_failure=tuple(acted_on_failure), done=tuple(done),
        kinds=_content(words),
        labelled=tuple(i >= label_end >= 0 for i in range(count)), doubted=doubted,
        takes_back=failed or withdrawn_until > 0 or takes_back_turn
        or any(phrase in STILL_THERE for phrase in zip(words, words[1:])))
