"""File names as people's computers send them are untrusted: a name may carry a path
(`../../etc/passwd`, `C:\\x\\y.pdf`), control characters that would split a download
header, or run to thousands of characters. Only the last path component is kept, in
printable characters, at most MAX_CHARS long (the extension kept), never hidden or
empty. Files are stored under their hash, so the name is only ever shown or offered
as the download's name — this keeps that harmless."""
import unicodedata

MAX_CHARS = 150
FALLBACK = "fisier"


def safe_filename(name, fallback: str = FALLBACK) -> str:
    if not isinstance(name, str):
        return fallback
    name = unicodedata.normalize("NFC", name)
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c if unicodedata.category(c)[0] not in "CZ" or c == " " else "_"
                   for c in name)
    name = name.replace('"', "'").strip(" .")
    while ".." in name:
        name = name.replace("..", ".")
    if len(name) > MAX_CHARS:
        stem, dot, extension = name.rpartition(".")
        if dot and 0 < len(extension) <= 10:
            name = stem[:MAX_CHARS - len(extension) - 1].rstrip(" .") + "." + extension
        else:
            name = name[:MAX_CHARS].rstrip(" .")
    return name or fallback
