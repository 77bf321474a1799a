"""The comparison the bench runs when python3 has pefile: parse every file's headers,
sections, imports and base relocations (what hvci's image checks read), nothing else.
Usage: python3 bench/pefile-parse.py FILE...  (prints the number of files parsed)."""
import sys

import pefile

DIRS = [
    pefile.DIRECTORY_ENTRY["IMAGE_DIRECTORY_ENTRY_IMPORT"],
    pefile.DIRECTORY_ENTRY["IMAGE_DIRECTORY_ENTRY_BASERELOC"],
]

parsed = 0
for path in sys.argv[1:]:
    try:
        pe = pefile.PE(path, fast_load=True)
        pe.parse_data_directories(directories=DIRS)
        for s in pe.sections:
            s.Characteristics
        parsed += 1
    except Exception as e:  # a malformed file: pefile's own error, counted as not parsed
        print(f"{path}: {e}", file=sys.stderr)
print(parsed)
