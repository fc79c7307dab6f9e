"""The import budget: 10,000 spreadsheet rows checked and written in at most 10 s, through the app."""
import io
import random
import re
import time

IMPORT_ROWS = 10_000
IMPORT_SECONDS = 10

FIRST = ["Anna", "Maria", "Katarzyna", "Zofia", "Piotr", "Jan", "Tomasz", "Łukasz", "Jerzy", "Halina"]
LAST = ["Nowak", "Kowalska", "Wiśniewski", "Wójcik", "Zielińska", "Szymański", "Dąbrowska", "Król", "Mazur"]


def spreadsheet(rows: int = IMPORT_ROWS, seed: int = 7) -> bytes:
    """A Windows-1250 CSV as animators keep it: semicolons, Polish dates, some empty cells."""
    rng = random.Random(seed)
    lines = ["Imię;Nazwisko;Telefon;E-mail;Ulica;Wiek;Zainteresowania;Data kontaktu"]
    for n in range(rows):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        phone = f"7{rng.randrange(10**7, 10**8)}" if n % 3 else ""
        mail = f"osoba{n}@poczta.example" if n % 4 == 0 else ""
        lines.append(f"{first};{last} {n};{phone};{mail};Rolna;{rng.randrange(8, 90)};ogród, sąsiedzi;"
                     f"{rng.randrange(1, 28):02d}.{rng.randrange(1, 13):02d}.2025")
    return ("\r\n".join(lines) + "\r\n").encode("cp1250")


def measure(client) -> dict:
    """Upload, check and import as the signed-in coordinator; seconds for the whole round."""
    data = spreadsheet()
    started = time.perf_counter()
    r = client.post("/residents/import", data={"file": (io.BytesIO(data), "lista.csv")},
                    content_type="multipart/form-data")
    url = r.headers.get("Location", "")
    page = client.get(url).get_data(as_text=True)
    form = {}
    for m in re.finditer(r'<select id="(col\d+)" name="col\d+">(.*?)</select>', page, re.S):
        sel = re.search(r'<option value="(\w+)" selected>', m.group(2))
        form[m.group(1)] = sel.group(1) if sel else ""
    hood = re.search(r'<select id="neighbourhood" name="neighbourhood">.*?<option value="(\d+)"', page, re.S).group(1)
    r = client.post(url, data={**form, "neighbourhood": hood, "action": "import"})
    seconds = time.perf_counter() - started
    done = re.search(r"Liczba osób: (\d+)", r.get_data(as_text=True))
    return {"rows": IMPORT_ROWS, "imported": int(done.group(1)) if done else 0, "status": r.status_code,
            "seconds": round(seconds, 2)}
