/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for src/ntp_packet.c: the request encoding, every validation
 * rule on replies crafted byte by byte, extension fields and malformed
 * lengths, timestamps across the 2036 era roll-over and exact offset/delay. */
#include "ntpwall/ntp_packet.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#define COOKIE 0x0123456789abcdefULL
#define T(s, f) (((uint64_t)(s) << 32) | (uint32_t)(f))

static void put32(uint8_t *b, uint32_t v)
{
	b[0] = v >> 24;
	b[1] = v >> 16;
	b[2] = v >> 8;
	b[3] = v;
}

static void put64(uint8_t *b, uint64_t v)
{
	put32(b, (uint32_t)(v >> 32));
	put32(b + 4, (uint32_t)v);
}

/* A good reply to COOKIE: LI 0, VN 4, mode 4, stratum 2, T2/T3 1 ms apart. */
static void good_reply(uint8_t b[48])
{
	memset(b, 0, 48);
	b[0] = 0 << 6 | 4 << 3 | 4;
	b[1] = 2;
	b[2] = 6;
	b[3] = (uint8_t)-20;
	put32(b + 4, 0x00000800);		/* root delay 1/32 s */
	put32(b + 8, 0x00000400);		/* root dispersion 1/64 s */
	put32(b + 12, 0xc0000201);		/* refid 192.0.2.1 */
	put64(b + 16, T(3900000000u, 0));	/* reference */
	put64(b + 24, COOKIE);			/* origin */
	put64(b + 32, T(3900000010u, 0));	/* receive */
	put64(b + 40, T(3900000010u, 4294967));	/* transmit, +1 ms */
}

static enum ntp_check check_buf(const uint8_t *b, size_t len)
{
	struct ntp_packet p;
	enum ntp_check k = ntp_packet_parse(b, len, &p);

	return k != NTP_VALID ? k : ntp_reply_check(&p, COOKIE, 4, 15);
}

START_TEST(test_request)
{
	uint8_t b[48];

	memset(b, 0xff, sizeof(b));
	ntp_request_encode(b, COOKIE);
	ck_assert_uint_eq(b[0], 0x23);	/* LI 0, VN 4, mode 3 */
	for (int i = 1; i < 40; i++)
		ck_assert_uint_eq(b[i], 0);
	ck_assert_uint_eq(b[40], 0x01);
	ck_assert_uint_eq(b[47], 0xef);
}
END_TEST

START_TEST(test_parse_fields)
{
	uint8_t b[48];
	struct ntp_packet p;

	good_reply(b);
	ck_assert_int_eq(ntp_packet_parse(b, 48, &p), NTP_VALID);
	ck_assert_uint_eq(p.leap, 0);
	ck_assert_uint_eq(p.version, 4);
	ck_assert_uint_eq(p.mode, 4);
	ck_assert_uint_eq(p.stratum, 2);
	ck_assert_int_eq(p.poll, 6);
	ck_assert_int_eq(p.precision, -20);
	ck_assert_uint_eq(p.root_delay, 0x800);
	ck_assert_uint_eq(p.root_dispersion, 0x400);
	ck_assert_uint_eq(p.refid, 0xc0000201);
	ck_assert_uint_eq(p.origin, COOKIE);
	ck_assert_uint_eq(p.transmit, T(3900000010u, 4294967));
	ck_assert_int_eq(ntp_reply_check(&p, COOKIE, 4, 15), NTP_VALID);
}
END_TEST

START_TEST(test_lengths)
{
	uint8_t b[NTP_PACKET_MAX + 8];

	memset(b, 0, sizeof(b));
	good_reply(b);
	ck_assert_int_eq(check_buf(b, 47), NTP_BAD_LENGTH);
	ck_assert_int_eq(check_buf(b, 0), NTP_BAD_LENGTH);
	ck_assert_int_eq(check_buf(b, 50), NTP_BAD_LENGTH);	/* not a multiple of 4 */
	ck_assert_int_eq(check_buf(b, 49), NTP_BAD_LENGTH);
	ck_assert_int_eq(check_buf(b, 52), NTP_VALID);	/* crypto-NAK */
	ck_assert_int_eq(check_buf(b, 68), NTP_VALID);	/* MD5 MAC */
	ck_assert_int_eq(check_buf(b, 72), NTP_VALID);	/* SHA-1 MAC */
	ck_assert_int_eq(check_buf(b, 56), NTP_BAD_LENGTH);	/* neither */
	ck_assert_int_eq(check_buf(b, NTP_PACKET_MAX + 4), NTP_BAD_LENGTH);
}
END_TEST

START_TEST(test_extension_fields)
{
	uint8_t b[256];

	memset(b, 0, sizeof(b));
	good_reply(b);
	/* One 28-byte field (type 0x0104), no MAC. */
	b[48] = 0x01;
	b[49] = 0x04;
	b[51] = 28;
	ck_assert_int_eq(check_buf(b, 76), NTP_VALID);
	/* The same field followed by an MD5 MAC. */
	ck_assert_int_eq(check_buf(b, 96), NTP_VALID);
	/* Two fields: 28 + 32 bytes, then a SHA-1 MAC. */
	b[76 + 3] = 32;
	ck_assert_int_eq(check_buf(b, 48 + 28 + 32 + 24), NTP_VALID);
	/* A field claiming more bytes than the packet has. */
	b[51] = 200;
	ck_assert_int_eq(check_buf(b, 76), NTP_BAD_LENGTH);
	/* Length not a multiple of 4, and below the minimum of 16. */
	b[51] = 30;
	ck_assert_int_eq(check_buf(b, 80), NTP_BAD_LENGTH);
	b[51] = 12;
	ck_assert_int_eq(check_buf(b, 80), NTP_BAD_LENGTH);
	/* Zero length must not loop forever. */
	b[51] = 0;
	ck_assert_int_eq(check_buf(b, 80), NTP_BAD_LENGTH);
}
END_TEST

START_TEST(test_version_mode_origin)
{
	uint8_t b[48];

	for (int vn = 0; vn < 8; vn++) {
		good_reply(b);
		b[0] = (uint8_t)(vn << 3 | 4);
		ck_assert_int_eq(check_buf(b, 48), vn == 4 ? NTP_VALID : NTP_BAD_VERSION);
	}
	for (int mode = 0; mode < 8; mode++) {
		good_reply(b);
		b[0] = (uint8_t)(4 << 3 | mode);
		ck_assert_int_eq(check_buf(b, 48), mode == 4 ? NTP_VALID : NTP_BAD_MODE);
	}
	good_reply(b);
	b[31] ^= 1;
	ck_assert_int_eq(check_buf(b, 48), NTP_BAD_ORIGIN);
	/* Origin is checked first: a spoofed kiss is no kiss. */
	b[1] = 0;
	ck_assert_int_eq(check_buf(b, 48), NTP_BAD_ORIGIN);
	/* A VN3 reply to a VN3 request is fine. */
	{
		struct ntp_packet p;

		good_reply(b);
		b[0] = 3 << 3 | 4;
		ck_assert_int_eq(ntp_packet_parse(b, 48, &p), NTP_VALID);
		ck_assert_int_eq(ntp_reply_check(&p, COOKIE, 3, 15), NTP_VALID);
		ck_assert_int_eq(ntp_reply_check(&p, COOKIE, 4, 15), NTP_BAD_VERSION);
	}
}
END_TEST

START_TEST(test_kiss)
{
	uint8_t b[48];
	struct ntp_packet p;
	char code[5];

	good_reply(b);
	b[1] = 0;
	memcpy(b + 12, "RATE", 4);
	ck_assert_int_eq(check_buf(b, 48), NTP_KISS);
	ntp_packet_parse(b, 48, &p);
	ck_assert_str_eq(ntp_kiss_code(&p, code), "RATE");
	memcpy(b + 12, "D\x01NY", 4);
	ntp_packet_parse(b, 48, &p);
	ck_assert_str_eq(ntp_kiss_code(&p, code), "D?NY");
}
END_TEST

START_TEST(test_unsync_stratum)
{
	uint8_t b[48];
	struct ntp_packet p;

	good_reply(b);
	b[0] |= 3 << 6;
	ck_assert_int_eq(check_buf(b, 48), NTP_UNSYNC);
	good_reply(b);
	b[1] = 16;
	ck_assert_int_eq(check_buf(b, 48), NTP_UNSYNC);
	b[1] = 255;
	ck_assert_int_eq(check_buf(b, 48), NTP_UNSYNC);
	b[1] = 15;
	ck_assert_int_eq(check_buf(b, 48), NTP_VALID);
	b[1] = 5;
	ntp_packet_parse(b, 48, &p);
	ck_assert_int_eq(ntp_reply_check(&p, COOKIE, 4, 4), NTP_BAD_STRATUM);
	ck_assert_int_eq(ntp_reply_check(&p, COOKIE, 4, 5), NTP_VALID);
	/* LI 1 and 2 (leap second announced) are fine. */
	good_reply(b);
	b[0] |= 1 << 6;
	ck_assert_int_eq(check_buf(b, 48), NTP_VALID);
}
END_TEST

START_TEST(test_timestamps_c8)
{
	uint8_t b[48];

	good_reply(b);
	put64(b + 32, 0);
	ck_assert_int_eq(check_buf(b, 48), NTP_ZERO_TIME);
	good_reply(b);
	put64(b + 40, 0);
	ck_assert_int_eq(check_buf(b, 48), NTP_ZERO_TIME);
	/* T3 before T2. */
	good_reply(b);
	put64(b + 40, T(3900000009u, 0));
	ck_assert_int_eq(check_buf(b, 48), NTP_BAD_PROCESSING);
	/* T3 - T2 exactly 4 s is fine, a bit more is not. */
	put64(b + 40, T(3900000014u, 0));
	ck_assert_int_eq(check_buf(b, 48), NTP_VALID);
	put64(b + 40, T(3900000014u, 1));
	ck_assert_int_eq(check_buf(b, 48), NTP_BAD_PROCESSING);
	/* Reference time after T3. */
	good_reply(b);
	put64(b + 16, T(3900000011u, 0));
	ck_assert_int_eq(check_buf(b, 48), NTP_BAD_REFTIME);
	/* Across the era boundary: T2 in era 0, T3 and reference in era 1. */
	good_reply(b);
	put64(b + 16, T(0xffffff00u, 0));
	put64(b + 32, T(0xffffffffu, 0x80000000u));
	put64(b + 40, T(0x00000000u, 0x80000000u));
	ck_assert_int_eq(check_buf(b, 48), NTP_VALID);
}
END_TEST

START_TEST(test_era_conversion)
{
	/* 2036-02-07 06:28:16 UTC is era 1 second 0. */
	struct timespec roll = { 2085978496, 0 }, back;
	struct timespec before = { 2085978495, 999999999 };
	uint64_t ts;

	ck_assert_uint_eq(ntp_ts_from_timespec(&roll), 0);
	ts = ntp_ts_from_timespec(&before);
	ck_assert_uint_eq(ts >> 32, 0xffffffffu);
	/* 999999999 ns rounds to the top fraction, not over. */
	ck_assert_uint_ge(ts & 0xffffffffu, 0xfffffff0u);
	/* Era chosen from the pivot. */
	back = ntp_ts_to_timespec(0, 2085978000);
	ck_assert_int_eq(back.tv_sec, 2085978496);
	ck_assert_int_eq(back.tv_nsec, 0);
	back = ntp_ts_to_timespec(T(0xffffffffu, 0x80000000u), 2085979000);
	ck_assert_int_eq(back.tv_sec, 2085978495);
	ck_assert_int_eq(back.tv_nsec, 500000000);
	/* 1970 is in era 0. */
	back = ntp_ts_to_timespec(T(NTP_UNIX_OFFSET, 0), 0);
	ck_assert_int_eq(back.tv_sec, 0);
	/* Round trip of an ordinary time to within 1 ns. */
	{
		struct timespec now = { 1764170000, 123456789 };

		back = ntp_ts_to_timespec(ntp_ts_from_timespec(&now), now.tv_sec);
		ck_assert_int_eq(back.tv_sec, now.tv_sec);
		ck_assert_int_le(labs(back.tv_nsec - now.tv_nsec), 1);
	}
	/* Differences across the roll-over are small and signed. */
	ck_assert_int_eq(ntp_ts_diff(T(0, 0), T(0xffffffffu, 0)), NTP_FP_ONE);
	ck_assert_int_eq(ntp_ts_diff(T(0xffffffffu, 0), T(0, 0)), -NTP_FP_ONE);
}
END_TEST

START_TEST(test_offset_delay_exact)
{
	/* T1 = 10 s, T2 = 12.5 s + 1 unit, T3 = 12.5 s + 3 units, T4 = 10 s + 5 units:
	 * offset = ((2.5 s + 1) + (2.5 s - 2)) / 2 = 2.5 s - 1/2 unit -> floor. */
	uint64_t t1 = T(10, 0), t2 = T(12, 0x80000001u), t3 = T(12, 0x80000003u),
		 t4 = T(10, 5);

	ck_assert_int_eq(ntp_offset(t1, t2, t3, t4), ((ntp_fp)5 << 31) - 1);
	ck_assert_int_eq(ntp_delay(t1, t2, t3, t4), 3);
	/* Across the era: T1 1 s before the roll-over, T4 at it, the server
	 * 2.5 s past T1 and 1.5 s past T4: offset 2 s, delay 1 s. */
	t1 = T(0xffffffffu, 0);
	t2 = T(0x00000001u, 0x80000000u);
	t3 = T(0x00000001u, 0x80000000u);
	t4 = T(0x00000000u, 0);
	ck_assert_int_eq(ntp_offset(t1, t2, t3, t4), 2 * NTP_FP_ONE);
	ck_assert_int_eq(ntp_delay(t1, t2, t3, t4), NTP_FP_ONE);
	/* Negative offset, exact. */
	ck_assert_int_eq(ntp_offset(T(100, 0), T(99, 0), T(99, 0), T(100, 0)), -NTP_FP_ONE);
	/* Large but valid differences (60 years) do not overflow. */
	ck_assert_int_eq(ntp_offset(T(0, 0), T(0x70000000u, 0), T(0x70000000u, 0), T(0, 0)),
			 (ntp_fp)0x70000000 << 32);
	/* Saturation instead of wrap for absurd delay. */
	ck_assert_int_eq(ntp_delay(T(0, 0), T(0x7fffffffu, 0), T(0, 0), T(0x7fffffffu, 0)),
			 INT64_MAX);
}
END_TEST

START_TEST(test_fixed_point_conversions)
{
	struct ntp_packet p = { .root_delay = 0x00010000, .root_dispersion = 0x00008000 };

	ck_assert_int_eq(ntp_fp_to_ns(NTP_FP_ONE), 1000000000);
	ck_assert_int_eq(ntp_fp_to_ns(-NTP_FP_ONE / 2), -500000000);
	ck_assert_int_eq(ntp_fp_to_ns((ntp_fp)5 << 31), 2500000000LL);
	ck_assert_int_eq(ntp_fp_to_ns(ntp_fp_from_ns(-1234567891)), -1234567891);
	ck_assert_int_eq(ntp_fp_to_ns(ntp_fp_from_ns(2500000000LL)), 2500000000LL);
	ck_assert_int_eq(ntp_short_to_fp(0x00018000), NTP_FP_ONE + NTP_FP_ONE / 2);
	ck_assert_int_eq(ntp_precision_fp(-1), NTP_FP_ONE / 2);
	ck_assert_int_eq(ntp_precision_fp(-40), 0);
	/* (1 s delay + 1 s root delay) / 2 + 0.5 s = 1.5 s; negative delay = 0. */
	ck_assert_int_eq(ntp_root_distance(NTP_FP_ONE, &p), NTP_FP_ONE + NTP_FP_ONE / 2);
	ck_assert_int_eq(ntp_root_distance(-5, &p), NTP_FP_ONE);
	ck_assert(ntp_fp_to_double((ntp_fp)5 << 31) == 2.5);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ntp_packet");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_request);
	tcase_add_test(tc, test_parse_fields);
	tcase_add_test(tc, test_lengths);
	tcase_add_test(tc, test_extension_fields);
	tcase_add_test(tc, test_version_mode_origin);
	tcase_add_test(tc, test_kiss);
	tcase_add_test(tc, test_unsync_stratum);
	tcase_add_test(tc, test_timestamps_c8);
	tcase_add_test(tc, test_era_conversion);
	tcase_add_test(tc, test_offset_delay_exact);
	tcase_add_test(tc, test_fixed_point_conversions);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
