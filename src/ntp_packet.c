/* SPDX-License-Identifier: GPL-2.0-or-later */
/* NTP packet codec and validation for the SNTP prober (RFC 5905, RFC 4330,
 * RFC 7822 for extension fields), plus 32.32 fixed-point time arithmetic.
 * Everything here is pure: no clock is read and no socket touched. */
#include "ntpwall/ntp_packet.h"

#include <string.h>

static uint32_t get32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static uint64_t get64(const uint8_t *b)
{
	return (uint64_t)get32(b) << 32 | get32(b + 4);
}

static void put64(uint8_t *b, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		b[i] = (uint8_t)v;
		v >>= 8;
	}
}

void ntp_request_encode(uint8_t buf[NTP_HEADER_LEN], uint64_t cookie)
{
	memset(buf, 0, NTP_HEADER_LEN);
	buf[0] = NTP_VERSION << 3 | NTP_MODE_CLIENT;	/* LI 0, VN 4, mode 3 */
	put64(buf + 40, cookie);			/* transmit timestamp */
}

/* RFC 7822 s3/s7.5: after the header come extension fields (type 16 bits,
 * length 16 bits, length >= 16 and a multiple of 4) and then an optional MAC
 * of 4 (crypto-NAK), 20 (MD5) or 24 (SHA-1) bytes. Without a MAC the last
 * field is at least 28 bytes, so anything left of more than 24 bytes is a
 * field. We never interpret them, only make sure they fit. */
static bool ext_fields_ok(const uint8_t *buf, size_t len)
{
	size_t pos = NTP_HEADER_LEN;

	while (len - pos > NTP_MAC_MAX) {
		size_t flen = (size_t)buf[pos + 2] << 8 | buf[pos + 3];

		if (flen < NTP_EXT_MIN || flen % 4 || flen > len - pos)
			return false;
		pos += flen;
	}
	switch (len - pos) {
	case 0:
	case 4:
	case 20:
	case 24:
		return true;
	default:
		return false;
	}
}

enum ntp_check ntp_packet_parse(const uint8_t *buf, size_t len, struct ntp_packet *p)
{
	memset(p, 0, sizeof(*p));
	if (len < NTP_HEADER_LEN || len % 4 || len > NTP_PACKET_MAX)
		return NTP_BAD_LENGTH;
	if (!ext_fields_ok(buf, len))
		return NTP_BAD_LENGTH;
	p->leap = buf[0] >> 6;
	p->version = (buf[0] >> 3) & 7;
	p->mode = buf[0] & 7;
	p->stratum = buf[1];
	p->poll = (int8_t)buf[2];
	p->precision = (int8_t)buf[3];
	p->root_delay = get32(buf + 4);
	p->root_dispersion = get32(buf + 8);
	p->refid = get32(buf + 12);
	p->reference = get64(buf + 16);
	p->origin = get64(buf + 24);
	p->receive = get64(buf + 32);
	p->transmit = get64(buf + 40);
	p->ext_len = len - NTP_HEADER_LEN;
	return NTP_VALID;
}

enum ntp_check ntp_reply_check(const struct ntp_packet *p, uint64_t cookie,
			       unsigned req_version, unsigned max_stratum)
{
	ntp_fp proc;

	/* Origin first: a packet that does not echo our cookie may not come
	 * from the server at all, so nothing else in it can be believed. */
	if (p->origin != cookie)
		return NTP_BAD_ORIGIN;
	if (p->version < 1 || p->version > 4 || p->version != req_version)
		return NTP_BAD_VERSION;
	if (p->mode != NTP_MODE_SERVER)
		return NTP_BAD_MODE;
	if (p->stratum == NTP_STRATUM_KISS)
		return NTP_KISS;
	if (p->leap == NTP_LEAP_ALARM || p->stratum >= NTP_STRATUM_UNSYNC)
		return NTP_UNSYNC;
	if (p->stratum > max_stratum)
		return NTP_BAD_STRATUM;
	if (!p->receive || !p->transmit)
		return NTP_ZERO_TIME;
	proc = ntp_ts_diff(p->transmit, p->receive);
	if (proc < 0 || proc > (ntp_fp)NTP_MAX_PROCESSING_S * NTP_FP_ONE)
		return NTP_BAD_PROCESSING;
	/* A zero reference time is "never synchronised"; LI 3 covers it. */
	if (p->reference && ntp_ts_diff(p->transmit, p->reference) < 0)
		return NTP_BAD_REFTIME;
	return NTP_VALID;
}

const char *ntp_check_str(enum ntp_check c)
{
	static const char *const names[] = {
		[NTP_VALID] = "valid",
		[NTP_BAD_LENGTH] = "malformed length or extension field",
		[NTP_BAD_VERSION] = "wrong version",
		[NTP_BAD_MODE] = "wrong mode",
		[NTP_BAD_ORIGIN] = "origin mismatch (possible spoofing)",
		[NTP_KISS] = "kiss-o'-death",
		[NTP_UNSYNC] = "server unsynchronised",
		[NTP_BAD_STRATUM] = "stratum above the limit",
		[NTP_ZERO_TIME] = "zero receive or transmit timestamp",
		[NTP_BAD_PROCESSING] = "server processing time negative or above 4 s",
		[NTP_BAD_REFTIME] = "reference time after transmit time",
	};

	if ((size_t)c < sizeof(names) / sizeof(names[0]) && names[c])
		return names[c];
	return "unknown";
}

const char *ntp_kiss_code(const struct ntp_packet *p, char out[5])
{
	for (int i = 0; i < 4; i++) {
		uint8_t c = (uint8_t)(p->refid >> (24 - 8 * i));

		out[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	out[4] = '\0';
	return out;
}

uint64_t ntp_ts_from_timespec(const struct timespec *ts)
{
	/* Seconds wrap modulo 2^32 (the era); only the low 32 bits matter. */
	uint32_t sec = (uint32_t)((uint64_t)ts->tv_sec + NTP_UNIX_OFFSET);
	uint64_t frac = (((uint64_t)ts->tv_nsec << 32) + 500000000u) / 1000000000u;

	/* tv_nsec close to 1e9 rounds up to a full second. */
	return ((uint64_t)sec << 32) + frac;
}

struct timespec ntp_ts_to_timespec(uint64_t ts, time_t pivot)
{
	uint32_t pivot_ntp = (uint32_t)((uint64_t)pivot + NTP_UNIX_OFFSET);
	/* Signed distance of ts from the pivot within one era (s6 again). */
	int32_t dsec = (int32_t)((uint32_t)(ts >> 32) - pivot_ntp);
	uint64_t frac = ts & 0xffffffffu;
	struct timespec r;

	r.tv_sec = pivot + dsec;
	r.tv_nsec = (long)((frac * 1000000000u + (1u << 31)) >> 32);
	if (r.tv_nsec >= 1000000000) {
		r.tv_sec++;
		r.tv_nsec -= 1000000000;
	}
	return r;
}

ntp_fp ntp_ts_diff(uint64_t a, uint64_t b)
{
	/* Two's complement wrap: right whenever |a - b| < 2^63 units (68 y). */
	return (ntp_fp)(a - b);
}

ntp_fp ntp_short_to_fp(uint32_t s)
{
	return (ntp_fp)s << 16;
}

ntp_fp ntp_offset(uint64_t t1, uint64_t t2, uint64_t t3, uint64_t t4)
{
	ntp_fp a = ntp_ts_diff(t2, t1), b = ntp_ts_diff(t3, t4);

	/* floor((a + b) / 2) without the sum overflowing: halve first, then
	 * add the carry of the two dropped low bits. */
	return (a >> 1) + (b >> 1) + (a & b & 1);
}

ntp_fp ntp_delay(uint64_t t1, uint64_t t2, uint64_t t3, uint64_t t4)
{
	ntp_fp a = ntp_ts_diff(t4, t1), b = ntp_ts_diff(t3, t2), r;

	if (__builtin_sub_overflow(a, b, &r))
		return a < 0 ? INT64_MIN : INT64_MAX;
	return r;
}

ntp_fp ntp_root_distance(ntp_fp delay, const struct ntp_packet *p)
{
	/* Each term is below 2^48, so the sum cannot overflow. */
	ntp_fp d = delay > 0 ? delay : 0;

	if (d > (ntp_fp)1 << 60)
		d = (ntp_fp)1 << 60;
	return (d + ntp_short_to_fp(p->root_delay)) / 2 + ntp_short_to_fp(p->root_dispersion);
}

ntp_fp ntp_precision_fp(int precision)
{
	if (precision < -32)
		return 0;
	if (precision > 30)
		precision = 30;
	return (ntp_fp)1 << (32 + precision);
}

int64_t ntp_fp_to_ns(ntp_fp v)
{
	int64_t sec = v >> 32;	/* floor */
	uint64_t frac = (uint64_t)v & 0xffffffffu;

	return sec * 1000000000 + (int64_t)((frac * 1000000000u + (1u << 31)) >> 32);
}

ntp_fp ntp_fp_from_ns(int64_t ns)
{
	int64_t sec = ns / 1000000000, rem = ns % 1000000000;

	if (rem < 0) {
		rem += 1000000000;
		sec--;
	}
	return (ntp_fp)((uint64_t)sec << 32) +
	       (ntp_fp)((((uint64_t)rem << 32) + 500000000u) / 1000000000u);
}

double ntp_fp_to_double(ntp_fp v)
{
	return (double)v / 4294967296.0;
}
