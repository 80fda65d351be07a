/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer target for the SNTP reply parser and validator (src/ntp_packet.c).
 * The input is a datagram received in answer to a fixed request carrying a
 * fixed cookie: it must be parsed and judged without reading outside the
 * buffer, and the verdict must agree with the rules in ntp_packet.h. The same
 * bytes, read as 64-bit words, drive the timestamp and fixed-point functions,
 * whose results are checked against exact 128-bit arithmetic. Any mismatch
 * traps, so libFuzzer reports it as a crash. */
#include "ntpwall/ntp_packet.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define COOKIE 0x0123456789abcdefULL	/* also in the seed corpus and ntp.dict */
#define MAX_WORDS 32			/* bounds the arithmetic work per input */
#define NS 1000000000

#define CHECK(cond)                          \
	do {                                 \
		if (!(cond))                 \
			__builtin_trap();    \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Word i of the input, big-endian, reading cyclically so every input gives
 * as many words as it has bytes / 8 (at least one). */
static uint64_t word(const uint8_t *d, size_t n, size_t i)
{
	uint64_t v = 0;

	for (size_t k = 0; k < 8; k++)
		v = v << 8 | (n ? d[(i * 8 + k) % n] : 0);
	return v;
}

/* floor(x / 2^32 * 1e9 + 1/2): nanoseconds of a 32.32 value, the reference
 * for ntp_fp_to_ns. */
static int64_t ref_fp_to_ns(ntp_fp v)
{
	__int128 x = (__int128)v * NS + ((__int128)1 << 31);

	return (int64_t)(x >> 32);
}

static void check_parse_invariants(const uint8_t *data, size_t size, const struct ntp_packet *p,
				   enum ntp_check k)
{
	CHECK(k == NTP_VALID || k == NTP_BAD_LENGTH);
	if (k != NTP_VALID)
		return;
	CHECK(size >= NTP_HEADER_LEN && size % 4 == 0 && size <= NTP_PACKET_MAX);
	CHECK(p->ext_len == size - NTP_HEADER_LEN);
	CHECK(p->leap == data[0] >> 6 && p->version == ((data[0] >> 3) & 7));
	CHECK(p->mode == (data[0] & 7) && p->stratum == data[1]);
	CHECK(p->origin == word(data, size, 3) && p->transmit == word(data, size, 5));
	/* Trailing data never changes how the header reads. */
	{
		struct ntp_packet h;

		CHECK(ntp_packet_parse(data, NTP_HEADER_LEN, &h) == NTP_VALID);
		CHECK(h.ext_len == 0 && h.poll == p->poll && h.precision == p->precision);
		CHECK(h.root_delay == p->root_delay && h.root_dispersion == p->root_dispersion);
		CHECK(h.refid == p->refid && h.reference == p->reference);
		CHECK(h.origin == p->origin && h.receive == p->receive);
		CHECK(h.transmit == p->transmit && h.mode == p->mode);
	}
}

static void check_verdict(const struct ntp_packet *p, unsigned max_stratum)
{
	enum ntp_check k = ntp_reply_check(p, COOKIE, NTP_VERSION, max_stratum);
	ntp_fp proc;
	char kiss[5];

	CHECK(strcmp(ntp_check_str(k), "unknown") != 0);
	ntp_kiss_code(p, kiss);
	CHECK(strlen(kiss) == 4);
	for (int i = 0; i < 4; i++)
		CHECK(kiss[i] >= 0x20 && kiss[i] < 0x7f);
	/* The origin is checked before anything else in the packet. */
	CHECK((k == NTP_BAD_ORIGIN) == (p->origin != COOKIE));
	if (k == NTP_KISS)
		CHECK(p->stratum == 0 && p->mode == NTP_MODE_SERVER);
	if (k != NTP_VALID)
		return;
	proc = ntp_ts_diff(p->transmit, p->receive);
	CHECK(p->version == NTP_VERSION && p->mode == NTP_MODE_SERVER);
	CHECK(p->leap != NTP_LEAP_ALARM);
	CHECK(p->stratum >= 1 && p->stratum <= max_stratum);
	CHECK(p->receive && p->transmit);
	CHECK(proc >= 0 && proc <= (ntp_fp)NTP_MAX_PROCESSING_S * NTP_FP_ONE);
	CHECK(!p->reference || ntp_ts_diff(p->transmit, p->reference) >= 0);
}

/* ts -> timespec -> ts moves by at most 2 units of 2^-32 s (two roundings
 * to nearest, 0.5 ns and 0.5 unit), and the timespec lies within 2^31 s of
 * the pivot. The pivot is bounded: callers pass "now", and pivot + 2^31
 * must fit in time_t. */
static void check_ts_roundtrip(uint64_t ts, uint64_t pw)
{
	time_t pivot = (time_t)(int64_t)pw >> 2;
	struct timespec t = ntp_ts_to_timespec(ts, pivot);
	ntp_fp back;

	CHECK(t.tv_nsec >= 0 && t.tv_nsec < NS);
	CHECK(t.tv_sec - pivot >= -((int64_t)1 << 31) && t.tv_sec - pivot <= ((int64_t)1 << 31));
	back = ntp_ts_diff(ntp_ts_from_timespec(&t), ts);
	CHECK(back >= -2 && back <= 2);
}

/* timespec -> ts -> timespec is exact within 2^31 s of the pivot. */
static void check_timespec_roundtrip(uint64_t a, uint64_t b)
{
	time_t pivot = (time_t)(int64_t)a >> 2;
	struct timespec t = { .tv_sec = pivot + (int32_t)(uint32_t)b,
			      .tv_nsec = (long)((b >> 32) % NS) };
	struct timespec r = ntp_ts_to_timespec(ntp_ts_from_timespec(&t), pivot);

	CHECK(r.tv_sec == t.tv_sec && r.tv_nsec == t.tv_nsec);
}

static void check_fixed_point(uint64_t a, uint64_t b, uint64_t c, uint64_t d)
{
	__int128 x = (__int128)ntp_ts_diff(b, a) + ntp_ts_diff(c, d);
	__int128 y = (__int128)ntp_ts_diff(d, a) - ntp_ts_diff(c, b);
	ntp_fp v = (ntp_fp)a, delay = ntp_delay(a, b, c, d);
	int64_t ns = (int64_t)b;
	struct ntp_packet p = { .root_delay = (uint32_t)c, .root_dispersion = (uint32_t)(c >> 32) };
	ntp_fp dist;

	CHECK(b + (uint64_t)ntp_ts_diff(a, b) == a);
	/* Offset: floor of the halved sum, which always fits. */
	CHECK(ntp_offset(a, b, c, d) == (ntp_fp)(x >= 0 ? x / 2 : -((-x + 1) / 2)));
	/* Delay: the exact difference, saturated. */
	CHECK(delay == (y > INT64_MAX ? INT64_MAX : y < INT64_MIN ? INT64_MIN : (ntp_fp)y));
	dist = ntp_root_distance(delay, &p);
	CHECK(dist >= 0);
	CHECK(ntp_short_to_fp((uint32_t)d) == (ntp_fp)(uint32_t)d * 65536);
	CHECK(ntp_precision_fp((int8_t)d) >= 0);
	/* 32.32 <-> ns within the documented +-2^31 s. */
	CHECK(ntp_fp_to_ns(v) == ref_fp_to_ns(v));
	if (ns > -((int64_t)1 << 31) * NS && ns < ((int64_t)1 << 31) * NS)
		CHECK(ntp_fp_to_ns(ntp_fp_from_ns(ns)) == ns);
	(void)ntp_fp_to_double(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t req[NTP_HEADER_LEN];
	struct ntp_packet p, rq;
	enum ntp_check k;
	size_t nwords = size / 8 < MAX_WORDS ? size / 8 : MAX_WORDS;

	/* The request we "sent": a reply to it echoing it back is not mode 4. */
	ntp_request_encode(req, COOKIE);
	CHECK(ntp_packet_parse(req, sizeof(req), &rq) == NTP_VALID);
	CHECK(rq.transmit == COOKIE && rq.mode == NTP_MODE_CLIENT);

	k = ntp_packet_parse(data, size, &p);
	check_parse_invariants(data, size, &p, k);
	if (k == NTP_VALID) {
		check_verdict(&p, 15);
		check_verdict(&p, 1 + (unsigned)p.poll % 15u);	/* another limit, 1-15 */
	}

	if (nwords < 1)
		nwords = 1;
	for (size_t i = 0; i < nwords; i++) {
		uint64_t a = word(data, size, i), b = word(data, size, i + 1);

		check_ts_roundtrip(a, b);
		check_timespec_roundtrip(a, b);
		check_fixed_point(a, b, word(data, size, i + 2), word(data, size, i + 3));
	}
	return 0;
}
