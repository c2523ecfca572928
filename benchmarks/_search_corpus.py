"""A reproducible synthetic archive for the search benchmark: register entries of a
town hall over twelve years, with the letters' text, generated from a seed.

Words follow a Zipf law over a vocabulary of real Romanian words (with diacritics,
some inflected forms, some typed without diacritics as people do), so a few words are
in most documents and most words in few; surnames, streets and cadastral numbers make
the long tail of rare words. Everything is streamed: `documents(n)` yields
`SearchDocument`s one at a time and keeps nothing.
"""
import bisect
import itertools
import random
from datetime import date, timedelta

from archive.search.base import SearchDocument, SearchQuery

# Ordered roughly by how common they are in a town hall's letters.
VOCABULARY = """
cerere solicit primăria domnul doamna privind conform legii vă rog prezenta
dosarul documentul certificat urbanism autorizație construire teren imobil strada număr
municipiului județul comuna adresa domiciliul solicitare răspuns termen zile lucrătoare
petiție sesizare cererea cererii documentele anexă copie act identitate buletin
proprietar proprietatea locuință apartament bloc scara etaj clădire construcție
lucrări executare aviz avize acord acordul favorabil nefavorabil decizie dispoziție
hotărâre consiliului local primarului secretarului direcția serviciul compartimentul
taxe impozite impozitul fiscal fiscală certificatul adeverință adeverința eliberare
eliberarea plată plata chitanță factură sumă lei datorii scutire reducere majorări
cadastral cadastrală carte funciară extras plan situație amplasament suprafață metri
pătrați parcela lotul intravilan extravilan agricol agricolă registrul agricol animale
drum drumul drumuri stradă străzii trotuar trotuarul iluminat public iluminatului
canalizare apă apei curent energie gaze rețea rețeaua racordare branșament
școala şcoala școlii grădiniță elevi profesori învățământ burse transport
asistență socială ajutor social alocație indemnizație handicap persoane vârstnice
copii familie familia căsătorie naștere deces stare civilă certificatului
spațiu verde parc parcul copaci toaletare tăiere arbori salubrizare gunoi deșeuri
colectare containere câini comunitari poliția locală zgomot vecini vecinul gard
parcare parcări autoturism autovehicul abandonat ridicare înmatriculare
nume prenume cod numeric personal telefon email semnătura data ștampila
informații publice informațiile legea 544/2001 interes public comunicare
contract contractul închiriere concesiune licitație achiziție ofertă ofertele
proiect proiectul finanțare fonduri europene buget bugetul investiții reparații
reabilitare modernizare asfaltare pietruire podul podețul șanțuri rigole
inundații apele pluviale zăpadă deszăpezire gheață sare situații urgență
autorizația funcționare comerț activitate program orar terasă alimentație
eveniment manifestare spectacol cultural sportiv sala sportului stadion
cimitir loc mormânt concesionare biserica parohia capela
dezbatere publică consultare propunere propuneri observații amendament
contestație contestația plângere prealabilă instanța judecătoria tribunalul
sentința civilă executare silită somație proces verbal contravenție amendă
notificare notificarea restituire retrocedare despăgubiri fond funciar
titlu titlul proprietate moștenitori succesiune notar notarial
măsurători topografice expertiză tehnică raport evaluare
solicitantul petentul subsemnatul subsemnata domiciliat domiciliată
menționez precizez atașez anexez mulțumesc respect stimate
urgent urgentă rapid întârziere nerespectare reclamație reclamă nemulțumire
verificare control inspecție constatare constatat remediere remedierea
mediu protecția poluare fum ars ardere miros
lucrare lucrarea recepție recepția finalizare începere anunț
ședință ședința consilieri consilierul viceprimar primar secretar general
registratura arhiva arhivă copie conformă legalizată
programare audiență audiența întâlnire discuție
asociația proprietari administrator întreținere fațadă acoperiș
termoizolare centrală termică încălzire căldură
pășune pășunat izlaz crescători bovine ovine
fântână fântâna puț foraj alimentare
pieței piața taraba comercianți producători
transport public autobuz stația linia traseu abonament gratuit
elevilor navetă microbuz școlar
vot alegeri liste electorale secția votare
recensământ populație locuințe statistică
voluntariat tineret bibliotecă cămin cultural muzeu
sănătate dispensar medic familie farmacie ambulanța
""".split()

SURNAMES = """Popescu Ionescu Popa Pop Radu Dumitru Stan Stoica Gheorghe Matei Ciobanu
Rusu Munteanu Mureșan Constantin Marin Florea Moldovan Dinu Lazăr Tudor Ilie Barbu
Cristea Toma Nistor Oprea Dumitrescu Sârbu Ardelean Surdu Neagu Țurcanu Bălan Șerban
Drăgan Mocanu Zamfir Vlad Niculescu Căpraru Grigore Pavel Manea Enache Sandu Iordache
Coman Lungu Costea Voicu Anghel Mihai Husar Bucur Răducanu Cozma Tănase Vasilescu""".split()
FIRST_NAMES = """Ion Maria Gheorghe Elena Vasile Ana Constantin Ioana Mihai Andreea Nicolae
Mariana Dumitru Cristina Alexandru Gabriela Ștefan Daniela Florin Alina Adrian Mihaela
Cătălin Roxana Ionuț Simona Răzvan Oana Bogdan Irina Sorin Lăcrămioara Tudor Ileana""".split()
STREETS = """Mihai Viteazu, Avram Iancu, Decebal, Unirii, Libertății, Republicii, Ștefan
cel Mare, Horea, Closca, Crișan, Trandafirilor, Florilor, Morii, Gării, Școlii,
Bisericii, Câmpului, Viilor, Păcii, Independenței, Eroilor, Lalelelor, Plopilor""".split(", ")
COMPANIES = """Construct Agro Trans Edil Instal Electro Serv Com Impex Prod Grup Invest
Total Rapid Nord Sud Vest Est Carpați Dunărea""".split()

DEPARTMENTS = [("relatii-publice", 22), ("urbanism", 20), ("taxe", 18), ("asistenta-sociala", 10),
               ("stare-civila", 8), ("registru-agricol", 7), ("juridic", 5), ("achizitii", 4),
               ("comert", 3), ("politia-locala", 3)]
TYPES = [("petitie", 30), ("cerere", 25), ("sesizare", 10), ("certificat-urbanism", 8),
         ("autorizatie-construire", 5), ("informatii-publice", 5), ("adresa", 8),
         ("contestatie", 2), ("notificare", 3), ("acord-functionare", 2), ("raspuns", 2)]
FIRST_YEAR, LAST_YEAR = 2015, 2026
URB_SHARE = 0.15            # entries of the Urbanism series, numbered `URB-12/…`


def _cumulative(weights):
    return list(itertools.accumulate(weights))


class Corpus:
    """Deterministic for a given seed and size: the n-th document is always the same."""

    def __init__(self, size: int, seed: int = 2026):
        self.size, self.seed = size, seed
        words = list(dict.fromkeys(VOCABULARY))
        # Some words as typed on a keyboard without diacritics.
        plain = str.maketrans("ăâîșşțţĂÂÎȘŞȚŢ", "aaissttAAISSTT")
        words += [w.translate(plain) for w in words[:150] if w.translate(plain) != w]
        self.words = words
        self.word_cum = _cumulative(1 / (rank + 1) ** 1.07 for rank in range(len(words)))
        self.dept_cum = _cumulative(w for _, w in DEPARTMENTS)
        self.type_cum = _cumulative(w for _, w in TYPES)
        span = (date(LAST_YEAR, 12, 31) - date(FIRST_YEAR, 1, 1)).days
        self.days_per_doc = span / max(size, 1)

    def _pick(self, rng, values, cum):
        return values[bisect.bisect(cum, rng.random() * cum[-1])]

    def _words(self, rng, count):
        total = self.word_cum[-1]
        return [self.words[bisect.bisect(self.word_cum, rng.random() * total)]
                for _ in range(count)]

    def documents(self):
        rng = random.Random(self.seed)
        numbers: dict[tuple[str, int], int] = {}
        start = date(FIRST_YEAR, 1, 1)
        for entry_id in range(1, self.size + 1):
            on = start + timedelta(days=int(entry_id * self.days_per_doc))
            prefix = "URB-" if rng.random() < URB_SHARE else ""
            number = numbers[(prefix, on.year)] = numbers.get((prefix, on.year), 0) + 1
            department = ("urbanism" if prefix else
                          self._pick(rng, [d for d, _ in DEPARTMENTS], self.dept_cum))
            doc_type = self._pick(rng, [t for t, _ in TYPES], self.type_cum)
            yield SearchDocument(
                entry_id=entry_id, label=f"{prefix}{number}/{on:%d.%m.%Y}", registered_on=on,
                sender_name=self._sender(rng), department=department, document_type=doc_type,
                file_code=f"{department[:3].upper()}-{rng.randint(1, 6)}",
                direction=rng.choice(("in", "in", "in", "out", "internal")),
                cancelled=rng.random() < 0.01,
                summary=" ".join(self._words(rng, rng.randint(6, 18))).capitalize() + ".",
                titles=[doc_type.replace("-", " ").capitalize()]
                + (["Anexă"] if rng.random() < 0.3 else []),
                text=self._text(rng), visibility=[department])

    def _sender(self, rng) -> str:
        roll = rng.random()
        if roll < 0.75:
            return f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}"
        if roll < 0.92:
            return f"SC {rng.choice(COMPANIES)} {rng.choice(COMPANIES)} SRL"
        return f"Asociația de proprietari nr. {rng.randint(1, 300)}"

    def _text(self, rng) -> str:
        sentences = []
        for _ in range(rng.randint(3, 14)):
            sentence = " ".join(self._words(rng, rng.randint(5, 16)))
            roll = rng.random()
            if roll < 0.15:
                sentence += (f", str. {rng.choice(STREETS)} nr. {rng.randint(1, 200)}")
            elif roll < 0.22:
                sentence += f", nr. cadastral {rng.randint(10000, 999999)}"
            elif roll < 0.27:
                sentence += f", {rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}"
            sentences.append(sentence.capitalize() + ".")
        return " ".join(sentences)

    def queries(self, count: int, seed: int = 7) -> list[SearchQuery]:
        """A fixed mix: common words, rare words, two words, words with a department
        or a date range, register numbers; a third asked by a department's clerk."""
        rng = random.Random(seed)
        common, middle, rare = self.words[:40], self.words[40:300], self.words[300:]
        departments = [d for d, _ in DEPARTMENTS]
        out = []
        for i in range(count):
            kind = i % 20
            if kind < 5:
                q = SearchQuery(text=rng.choice(common))
            elif kind < 9:
                q = SearchQuery(text=rng.choice(rare + SURNAMES + [str(rng.randint(10000, 999999))]))
            elif kind < 13:
                q = SearchQuery(text=f"{rng.choice(middle)} {rng.choice(common + middle)}")
            elif kind < 15:
                q = SearchQuery(text=rng.choice(common + middle),
                                department=rng.choice(departments))
            elif kind < 17:
                year = rng.randint(FIRST_YEAR, LAST_YEAR)
                first = date(year, rng.randint(1, 12), rng.randint(1, 28))
                q = SearchQuery(text=rng.choice(common + middle), date_from=first,
                                date_to=first + timedelta(days=rng.randint(7, 200)))
            else:
                year = rng.randint(FIRST_YEAR, LAST_YEAR)
                per_year = max(self.size // (LAST_YEAR - FIRST_YEAR + 1), 2)
                q = SearchQuery(register_number=f"{rng.randint(1, int(per_year * 0.8))}/{year}")
            if rng.random() < 0.33:
                q.allowed_departments = {rng.choice(departments)}
            out.append(q)
        return out
