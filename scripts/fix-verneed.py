#!/usr/bin/python3
"""Retarget a glibc version requirement in an ELF64 little-endian file, in place.

Usage: fix-verneed.py [--from GLIBC_2.38] [--to GLIBC_2.2.5] FILE...

After `patchelf --clear-symbol-version` has removed every symbol's reference to
a version (e.g. GLIBC_2.38), the binary still lists that version in
.gnu.version_r, and the dynamic loader refuses to start it on an older glibc.
This rewrites that Elf64_Vernaux entry (hash u32, flags u16, other u16,
name u32, next u32) to carry the hash and name of an existing entry of the same
library (GLIBC_2.2.5), which every x86-64 glibc provides.  The entry keeps its
own version index (vna_other), so the version table stays consistent.

It refuses to touch a file where some dynamic symbol still uses the version.
A file that does not need the version is left alone (exit status 0), so the
script is idempotent.  Standard library only; runs with Debian's python3.
"""
import argparse
import struct
import sys


def elf_hash(name: bytes) -> int:
    h = 0
    for c in name:
        h = ((h << 4) + c) & 0xFFFFFFFF
        g = h & 0xF0000000
        if g:
            h ^= g >> 24
        h &= ~g & 0xFFFFFFFF
    return h


def cstr(data: bytes, off: int) -> bytes:
    return data[off:data.index(b"\0", off)]


def fix(path: str, old: bytes, new: bytes) -> str:
    with open(path, "rb") as f:
        data = bytearray(f.read())
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        raise SystemExit(f"{path}: not an ELF64 little-endian file")
    e_shoff, = struct.unpack_from("<Q", data, 0x28)
    e_shentsize, e_shnum, e_shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    sections = []
    for i in range(e_shnum):
        sh = struct.unpack_from("<IIQQQQIIQQ", data, e_shoff + i * e_shentsize)
        sections.append(sh)  # name type flags addr offset size link info align entsize
    shstr_off = sections[e_shstrndx][4]
    by_type = {}
    for sh in sections:
        by_type.setdefault(sh[1], []).append(sh)
    SHT_GNU_verneed, SHT_GNU_versym, SHT_DYNSYM = 0x6FFFFFFE, 0x6FFFFFFF, 11
    if SHT_GNU_verneed not in by_type:
        return "no .gnu.version_r"
    vn = by_type[SHT_GNU_verneed][0]
    strtab_off = sections[vn[6]][4]
    count = vn[7]  # sh_info: number of Elf64_Verneed entries

    entries = []  # (aux offset, hash, flags, other, name)
    off = vn[4]
    for _ in range(count):
        vn_version, vn_cnt, vn_file, vn_aux, vn_next = struct.unpack_from("<HHIII", data, off)
        lib = cstr(data, strtab_off + vn_file)
        aoff = off + vn_aux
        for _ in range(vn_cnt):
            h, fl, other, name, nxt = struct.unpack_from("<IHHII", data, aoff)
            entries.append((lib, aoff, h, fl, other, cstr(data, strtab_off + name), name))
            aoff += nxt
            if nxt == 0:
                break
        if vn_next == 0:
            break
        off += vn_next

    targets = [e for e in entries if e[5] == old]
    if not targets:
        return f"does not need {old.decode()}"
    done = []
    for lib, aoff, h, fl, other, name, name_off in targets:
        donor = [e for e in entries if e[0] == lib and e[5] == new]
        if not donor:
            raise SystemExit(f"{path}: {lib.decode()} has no {new.decode()} entry to copy")
        # Refuse if a dynamic symbol still uses this version index.
        if SHT_GNU_versym in by_type and SHT_DYNSYM in by_type:
            vs = by_type[SHT_GNU_versym][0]
            ds = by_type[SHT_DYNSYM][0]
            dstr_off = sections[ds[6]][4]
            users = []
            for i in range(vs[5] // 2):
                idx, = struct.unpack_from("<H", data, vs[4] + 2 * i)
                if idx & 0x7FFF == other:
                    st_name, = struct.unpack_from("<I", data, ds[4] + i * ds[9])
                    users.append(cstr(data, dstr_off + st_name).decode())
            if users:
                raise SystemExit(f"{path}: symbols still use {old.decode()}: {', '.join(users)}"
                                 " (run patchelf --clear-symbol-version first)")
        d = donor[0]
        assert d[2] == elf_hash(new)
        struct.pack_into("<I", data, aoff, d[2])        # vna_hash
        struct.pack_into("<I", data, aoff + 8, d[6])    # vna_name (string offset)
        done.append(lib.decode())
    with open(path, "r+b") as f:
        f.write(data)
    return f"{old.decode()} -> {new.decode()} in {', '.join(done)}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--from", dest="old", default="GLIBC_2.38")
    ap.add_argument("--to", dest="new", default="GLIBC_2.2.5")
    ap.add_argument("files", nargs="+")
    a = ap.parse_args()
    for p in a.files:
        print(f"{p}: {fix(p, a.old.encode(), a.new.encode())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
