"""Deal files with N parties: the real deal file, with generated parties added after its 17."""
from pathlib import Path

REAL_DEAL = Path(__file__).resolve().parent.parent / 'deals' / 'energieke-wijken.toml'
REAL_PARTIES = 17


def _party(number):
    code = f'gemeente-{number:04d}'
    return (f'\n[[parties]]\ncode = "{code}"\nemail = "{code}@bench.example"\nname = "Gemeente Bench {number}"\n'
            f'kind = "gemeente"\nrepresentatives = ["Wethouder Bench {number}"]\n'
            f'contributions = [{{ amount_eur = 10000, per = "year" }}]\n')


def write_deal(directory, parties):
    """A deal file with ``parties`` parties in ``directory``; returns its path."""
    if parties < REAL_PARTIES:
        raise ValueError(f'the real deal already has {REAL_PARTIES} parties')
    path = Path(directory) / f'deal-{parties}.toml'
    path.write_text(REAL_DEAL.read_text() + ''.join(_party(n) for n in range(1, parties - REAL_PARTIES + 1)))
    return path
