"""What a new password must be: long, and not guessable by the ways passwords are
guessed (common words and passwords, names, dates, keyboard walks, the user's own name
and the town hall's). zxcvbn estimates the guesses; we ask for its score 3 of 4
(about 10^8 guesses, out of reach of online guessing, which login throttling slows)."""
from flask_babel import gettext as _
from zxcvbn import zxcvbn

MIN_LENGTH = 12
MAX_LENGTH = 256            # Argon2 takes any length; a limit keeps requests small
MIN_SCORE = 3
TOWN_HALL_WORDS = ["primaria", "primăria", "dosar", "registratura", "parola", "primar"]


def password_problems(password: str, *, username: str = "", full_name: str = "") -> list[str]:
    """Romanian (or English) sentences saying what is wrong; empty when acceptable."""
    if len(password) < MIN_LENGTH:
        return [_("Parola trebuie să aibă cel puțin %(n)d caractere.", n=MIN_LENGTH)]
    if len(password) > MAX_LENGTH:
        return [_("Parola poate avea cel mult %(n)d caractere.", n=MAX_LENGTH)]
    words = [w for w in [username, *full_name.split(), *TOWN_HALL_WORDS] if w]
    if any(len(w) >= 4 and w.lower() in password.lower() for w in [username, *full_name.split()]
           if w):
        return [_("Parola nu poate conține numele de utilizator sau numele dumneavoastră.")]
    if zxcvbn(password[:100], user_inputs=words)["score"] < MIN_SCORE:
        return [_("Parola este prea ușor de ghicit: evitați cuvinte, nume, date și "
                  "șiruri de tastatură; o frază din mai multe cuvinte neobișnuite este "
                  "ușor de ținut minte și greu de ghicit.")]
    return []
