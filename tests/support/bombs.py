"""Files that look small and are not: decompression bombs built without ever holding their
expanded size (the input-limit tests and benchmarks/bench_bombs.py share them)."""

from __future__ import annotations

import gzip
import io
import struct
import zlib
from pathlib import Path

MIB = 1 << 20


def _deflate(parts: list[tuple[bytes, int]]) -> tuple[bytes, int, int]:
    """A raw deflate stream of each (bytes, times) in turn, built without compressing the
    repeats: after a full flush the compressor forgets what came before, so one block's
    output repeated is the output of the block repeated. Returns data, CRC-32, size."""
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    out, crc, size = [], 0, 0
    for data, times in parts:
        block = packer.compress(data) + packer.flush(zlib.Z_FULL_FLUSH)
        out.append(block * times)
        for _ in range(times):
            crc = zlib.crc32(data, crc)
        size += len(data) * times
    out.append(packer.flush())
    return b"".join(out), crc, size


_MAIN = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = 'xmlns="http://schemas.openxmlformats.org/package/2006/relationships"'
_XLSX_PARTS = {
    "[Content_Types].xml":
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/'
        'sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.'
        'worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
    "_rels/.rels": f'<Relationships {_PKG}><Relationship Id="rId1" '
                   f'Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
    "xl/workbook.xml": f'<workbook {_MAIN} xmlns:r="{_REL}"><sheets><sheet name="Samples" '
                       'sheetId="1" r:id="rId1"/></sheets></workbook>',
    "xl/_rels/workbook.xml.rels":
        f'<Relationships {_PKG}><Relationship Id="rId1" Type="{_REL}/worksheet" '
        f'Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="{_REL}/sharedStrings" '
        'Target="sharedStrings.xml"/></Relationships>',
    "xl/worksheets/sheet1.xml":
        f'<worksheet {_MAIN}><sheetData><row r="1"><c r="A1" t="s"><v>1</v></c></row>'
        '<row r="2"><c r="A2" t="s"><v>0</v></c></row></sheetData></worksheet>',
}


def xlsx_bomb(path: Path, cell_mib: int, declared: int | None = None) -> Path:
    """A workbook as Excel writes one (shared strings), whose first shared string is one
    cell of ``cell_mib`` MiB of 'A'; ``declared`` is the size its zip headers give for that
    part (the true one by default)."""
    members = [(name, *_deflate([(text.encode(), 1)]), None)
               for name, text in _XLSX_PARTS.items()]
    strings = _deflate([(f'<sst {_MAIN} count="2" uniqueCount="2"><si><t>'.encode(), 1),
                        (b"A" * MIB, cell_mib),
                        (b"</t></si><si><t>samp_name</t></si></sst>", 1)])
    members.append(("xl/sharedStrings.xml", *strings, declared))
    out, central = io.BytesIO(), []
    for name, data, crc, size, claimed in members:
        offset, raw = out.tell(), name.encode()
        size = size if claimed is None else claimed
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc, len(data),
                              size, len(raw), 0) + raw + data)
        central.append(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0x21,
                                   crc, len(data), size, len(raw), 0, 0, 0, 0, 0, offset) + raw)
    start = out.tell()
    out.write(b"".join(central))
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(central), len(central),
                          out.tell() - start, start, 0))
    path.write_bytes(out.getvalue())
    return path


def gzip_bomb(path: Path, block: bytes, copies: int, first: bytes = b"") -> Path:
    """A gzip file of ``first`` then ``block`` repeated ``copies`` times: one gzip member
    compressed once and written again and again (gzip readers join members)."""
    member = gzip.compress(block, 9)
    with path.open("wb") as out:
        if first:
            out.write(gzip.compress(first))
        for _ in range(copies):
            out.write(member)
    return path


def sparse_zeros(path: Path, size: int = 10 << 30) -> Path:
    """A plain file of ``size`` zero bytes that takes no room on the disk."""
    with path.open("wb") as out:
        out.truncate(size)
    return path
