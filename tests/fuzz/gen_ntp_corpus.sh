#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Regenerate the seed corpus of fuzz_ntp_packet.c in tests/fuzz/corpus_ntp/:
# server replies to the fuzz target's request (origin = its cookie
# 0123456789abcdef), kisses, extension fields and MACs (RFC 5905, RFC 7822).
# The files are committed; run this only to change them. Needs xxd.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=$here/corpus_ntp
mkdir -p "$out"

cookie=0123456789abcdef
# 3900000000 s after 1900 (2023-08) and 10 s later; era 1 (after 2036-02-07)
# is 16 s into the new era.
ref=$(printf '%08x00000000' 3900000000)
rx=$(printf '%08x00000000' 3900000010)
tx=$(printf '%08x00418937' 3900000010)	# +1 ms
rx1=0000001000000000
tx1=0000001000418937

# reply NAME FIRSTBYTE STRATUM REFID REF RX TX [TRAILER]: one 48-byte header
# (poll 6, precision -20, root delay 1/32 s, root dispersion 1/64 s) plus
# optional trailing bytes, all in hex.
reply() {
	printf '%s%s06ec0000080000000400%s%s%s%s%s%s' "$2" "$3" "$4" "$5" "$cookie" "$6" "$7" \
		"${8:-}" | xxd -r -p >"$out/$1"
}

# LI 0 VN 4 mode 4 = 0x24; LI 3 VN 4 mode 4 = 0xe4; VN 3 mode 4 = 0x1c.
reply reply-stratum2 24 02 c0000201 "$ref" "$rx" "$tx"
reply reply-stratum1-gps 24 01 47505300 "$ref" "$rx" "$tx"
reply reply-v3 1c 03 c6336407 "$ref" "$rx" "$tx"
reply reply-era1 24 02 c0000201 "$ref" "$rx1" "$tx1"
reply reply-unsync e4 10 00000000 0000000000000000 "$rx" "$tx"
reply kiss-rate 24 00 52415445 0000000000000000 0000000000000000 0000000000000000
reply kiss-deny 24 00 44454e59 0000000000000000 0000000000000000 0000000000000000
# One 28-byte extension field (type 0x0104, length 0x001c), no MAC.
reply ext-field 24 02 c0000201 "$ref" "$rx" "$tx" \
	"0104001c$(printf '%048d' 0)"
# A SHA-1 MAC: key id 1 and a 20-byte digest.
reply mac-sha1 24 02 c0000201 "$ref" "$rx" "$tx" \
	"00000001$(printf '%040d' 0 | tr 0 a)"
# A 16-byte extension field, then an MD5 MAC (key id + 16 bytes).
reply ext-and-mac 24 02 c0000201 "$ref" "$rx" "$tx" \
	"02040010$(printf '%024d' 0)0000000200112233445566778899aabbccddeeff"
# A crypto-NAK: a MAC of the key id 0 alone.
reply crypto-nak 24 02 c0000201 "$ref" "$rx" "$tx" 00000000
ls -l "$out"
