"""How a goal-driven caller answers the agent's yes/no questions and choices.

An agent that offers "Would you like me to cancel the card and send a new one?" gets a yes from a caller who
came for a new card, and "Would you like to hear about our premium card?" a no; a transfer it did not ask for
is declined too. "Towards the goal" is read with the goal vocabulary's concepts (goals.compile_goal): an
offer that names a concept of one of the caller's criteria or secondary goals moves it forward. A
confirmation is agreed to unless it names another value than the caller's own (a credit card when it holds
a debit card), which it corrects. A choice is made from what the caller knows (its profile and context),
else by its goal (both, when two options each serve an unmet criterion), else the first option on offer.
"""
from __future__ import annotations

from typing import Callable, Optional

from callers.scenario.asks import CONFIRM, OFFER, PERMISSION, Ask, AskBook
from callers.scenario.goals import CRITERION, GoalPattern, GoalTracker, compile_goal
from callers.scenario.grammar import Sentence, analyse, word_list
from callers.scenario.profile import CallerProfile


class GoalDecisions:
    """Yes/no and choice answers for one caller: its goal's concepts, its profile, its lines."""

    def __init__(self, book: AskBook, goals: GoalTracker, profile: CallerProfile, lines: dict,
                 pick: Callable[..., str], answer: Callable[[str, str], str]) -> None:
        self.book = book
        self.profile = profile
        self.replies = lines["replies"]
        self._pick = pick  # (lines, **values) -> one line filled in
        self._answer = answer  # (field, value) -> the caller's words for it
        self._patterns: list[tuple[bool, GoalPattern]] = [
            (status.kind == CRITERION, compile_goal(status.description)) for status in goals.statuses]
        self._wants_transfer = any(self._concepts_in(pattern, analyse("transfer you to"))
                                   for _, pattern in self._patterns)

    # ---- yes / no ----------------------------------------------------------------------------------------

    def yes_or_no(self, ask: Ask) -> str:
        sentence = analyse(ask.context)
        if ask.about == CONFIRM:
            correction = self._correction(sentence)
            return correction or self._pick(self.replies["yes_confirm"])
        if self._has(sentence, "transfer") and not self._wants_transfer:
            return self._pick(self.replies["no_transfer"])
        if self._has(sentence, "upsell"):
            return self._pick(self.replies["no"])
        if self._serves_goal(sentence):
            return self._pick(self.replies["yes"])
        if ask.about == PERMISSION:
            return self._pick(self.replies["yes_permission"])
        if ask.about == OFFER:
            # The agent offering to act for the caller (asks.toml [turns] agent_acts): with nothing else to go
            # on, a caller lets it act on its request and declines the rest.
            acts = self._has(analyse(ask.sentence), "agent_acts")
            return self._pick(self.replies["yes" if acts else "no"])
        return self._pick(self.replies["yes_question"])

    def _correction(self, sentence: Sentence) -> Optional[str]:
        """A confirmation naming another value of an option set than the caller's: its own value instead."""
        words = set(word_list(sentence.text))
        for field, values in self.book.options.items():
            own = (self.profile.get(field) or "").lower()
            if not own or own in words:
                continue
            if any(value in words for value in values if value != own):
                return self._pick(self.replies["correct"], answer=self._answer(field, own))
        return None

    # ---- choice ------------------------------------------------------------------------------------------

    def choose(self, ask: Ask, goals: GoalTracker) -> str:
        options = list(ask.options)
        for field, values in self.book.options.items():
            own = (self.profile.get(field) or "").lower()
            if own and any(own in option.split() for option in options):
                return _sentence_case(self._answer(field, own)) + "."
            if own:  # options that name another value of the caller's set are not the caller's
                options = [option for option in options if not set(option.split()) & (set(values) - {own})] or options
        serving = self._options_serving(options, goals)
        if len(serving) >= 2:
            return self._pick(self.replies["both"], first=serving[0], second=serving[1])
        if serving:
            return self._chosen(serving[0])
        known = [option for option in options if self._known_word(option)]
        if known:
            return self._chosen(known[0])
        plain = [option for option in options
                 if not self._has(analyse(option), "upsell") and not self._has(analyse(option), "transfer")]
        return self._chosen((plain or options)[0])

    def _options_serving(self, options: list[str], goals: GoalTracker) -> list[str]:
        """Options that each serve a different unmet criterion (or any goal, when none is unmet)."""
        unmet = {status.description for status in goals.statuses if not status.met}
        chosen: list[str] = []
        used: set[int] = set()
        for option in options:
            sentence = analyse(option)
            for index, (is_criterion, pattern) in enumerate(self._patterns):
                if index in used or (unmet and pattern.text not in unmet) or not is_criterion:
                    continue
                if self._concepts_in(pattern, sentence):
                    chosen.append(option)
                    used.add(index)
                    break
        return chosen

    def _known_word(self, option: str) -> bool:
        words = set(option.split())
        return any(len(word) > 3 and word in words
                   for value in self.profile.values.values() for word in value.lower().split())

    def _chosen(self, option: str) -> str:
        return self._pick(self.replies["choice"], option=_sentence_case(option))

    # ---- reading ---------------------------------------------------------------------------------------

    def _serves_goal(self, sentence: Sentence) -> bool:
        return any(self._concepts_in(pattern, sentence) for _, pattern in self._patterns)

    @staticmethod
    def _concepts_in(pattern: GoalPattern, sentence: Sentence) -> bool:
        """Whether the sentence names a concept of the goal, whatever its mood (an offer is a question)."""
        for alternative in pattern.alternatives:
            for concept in alternative:
                if any(sentence.has(cue) for cue in concept.unless):
                    continue
                if any(sentence.has(cue) for cue in concept.cues):
                    return True
        return False

    def _has(self, sentence: Sentence, name: str) -> bool:
        return any(sentence.has(cue) for cue in self.book.turns[name])


def _sentence_case(text: str) -> str:
    return text[:1].upper() + text[1:]
