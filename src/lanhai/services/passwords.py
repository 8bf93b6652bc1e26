"""The password policy for web sign-in (NIST SP 800-63B style): long enough, not a common or
easily guessed password, not the user's own name, no control characters. No rules about
which kinds of characters to mix: a passphrase of ordinary words is a good password.

Guessability is judged by zxcvbn (its lists of the 30,000 most common passwords, names and
words, keyboard patterns, dates and repeats), offline.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from lanhai.errors import Problem, ValidationFailed

MIN_LENGTH = 10
MAX_LENGTH = 1024
#: zxcvbn's score (0-4) a password needs: 3 is "safely unguessable: moderate protection
#: from offline slow-hash scenario" (at least 10^8 guesses)
MIN_SCORE = 3
#: zxcvbn is slow on very long inputs and gains nothing past this many characters
_SCORED_LENGTH = 100


def check_password(password: str, user_inputs: Iterable[str] = (), field: str = "password"
                   ) -> None:
    """Raise :class:`ValidationFailed` (naming ``field``) unless the password is good
    enough; ``user_inputs`` are the user's name and display name, which it must not be
    built from."""
    problems = _problems(password, [u for u in user_inputs if u], field)
    if problems:
        raise ValidationFailed("the password is not accepted", problems)


def _problems(password: str, user_inputs: list[str], field: str) -> list[Problem]:
    def problem(reason: str, fix: str) -> list[Problem]:
        return [Problem(field=field, reason=reason, fix=fix)]

    controls = sorted({f"U+{ord(c):04X}" for c in password
                       if unicodedata.category(c).startswith("C")})
    if controls:
        return problem(f"contains control characters ({', '.join(controls[:5])})",
                       "type the password with printable characters only")
    if not password.strip():
        return problem("is empty or only spaces", "choose a passphrase of several words")
    if len(password) < MIN_LENGTH:
        return problem(f"has {len(password)} characters; at least {MIN_LENGTH} are needed",
                       "use a longer passphrase, e.g. four unrelated words")
    if len(password) > MAX_LENGTH:
        return problem(f"has {len(password):,} characters; at most {MAX_LENGTH:,}",
                       "use a shorter passphrase")
    folded = password.casefold()
    for name in user_inputs:
        if len(name) >= 4 and name.casefold() in folded:
            return problem("contains the user's name", "choose a password without your name")
    from zxcvbn import zxcvbn

    verdict = zxcvbn(password[:_SCORED_LENGTH], user_inputs=user_inputs)
    if int(verdict["score"]) < MIN_SCORE:
        feedback = verdict.get("feedback") or {}
        warning = str(feedback.get("warning") or "is easy to guess").rstrip(".")
        tips = " ".join(str(t) for t in feedback.get("suggestions") or [])
        return problem(f"is too easy to guess: {warning[0].lower() + warning[1:]}",
                       tips or "use a longer passphrase of unrelated words")
    return []
