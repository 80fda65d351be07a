/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The NTP packet as an SNTP client sees it (RFC 5905 s7.3, RFC 4330 s4):
 * encoding a mode-3 request, parsing and validating a mode-4 reply, and the
 * 64-bit timestamp arithmetic, all pure functions so tests need no network. */
#ifndef NTPWALL_NTP_PACKET_H
#define NTPWALL_NTP_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define NTP_PORT 123
#define NTP_HEADER_LEN 48	/* RFC 5905 fig. 8, without extension fields */
#define NTP_VERSION 4
#define NTP_MODE_CLIENT 3
#define NTP_MODE_SERVER 4
#define NTP_LEAP_ALARM 3	/* LI 3: clock unsynchronised (RFC 5905 fig. 9) */
#define NTP_STRATUM_KISS 0	/* stratum 0 in a reply: kiss-o'-death (s7.4) */
#define NTP_STRATUM_UNSYNC 16	/* RFC 5905 fig. 11 */
#define NTP_MAC_MAX 24		/* key id + SHA-1 digest (RFC 7822 s3) */
#define NTP_EXT_MIN 16		/* smallest extension field (RFC 7822 s3) */
/* Largest reply read: header, a few extension fields and a MAC; anything
 * longer is refused as malformed (a client request carries none). */
#define NTP_PACKET_MAX 1024
/* RFC 4330 s5: T3 - T2, the server's processing time, above this is bogus. */
#define NTP_MAX_PROCESSING_S 4
/* Seconds from 1900-01-01 (NTP era 0) to 1970-01-01 (Unix epoch). */
#define NTP_UNIX_OFFSET 2208988800u

/* Fixed-point formats (RFC 5905 s6). A timestamp is 32.32 unsigned seconds
 * within an era of 2^32 s; a "short" is 16.16. A difference of timestamps is a
 * signed 32.32 value (ntp_fp), exact to 2^-32 s, valid within +-68 years. */
typedef int64_t ntp_fp;
#define NTP_FP_ONE ((ntp_fp)1 << 32)

/* The header fields in host order (RFC 5905 fig. 8). */
struct ntp_packet {
	uint8_t leap;		/* LI, 2 bits */
	uint8_t version;	/* VN, 3 bits */
	uint8_t mode;		/* 3 bits */
	uint8_t stratum;
	int8_t poll;		/* log2 seconds */
	int8_t precision;	/* log2 seconds */
	uint32_t root_delay;	/* 16.16 short */
	uint32_t root_dispersion; /* 16.16 short */
	uint32_t refid;		/* 4 bytes as on the wire, big-endian packed */
	uint64_t reference;	/* timestamps, 32.32 */
	uint64_t origin;
	uint64_t receive;
	uint64_t transmit;
	size_t ext_len;		/* bytes of extension fields and MAC skipped */
};

/* Why a reply is refused; NTP_VALID when it is fine. */
enum ntp_check {
	NTP_VALID,
	NTP_BAD_LENGTH,		/* < 48, not a multiple of 4, bad extension field (C2) */
	NTP_BAD_VERSION,	/* VN not 1-4 or not the request's (C3) */
	NTP_BAD_MODE,		/* not mode 4 (C4) */
	NTP_BAD_ORIGIN,		/* origin is not our cookie (C5) */
	NTP_KISS,		/* stratum 0: kiss-o'-death, code in refid (C6) */
	NTP_UNSYNC,		/* LI 3 or stratum >= 16 (C7) */
	NTP_BAD_STRATUM,	/* above the caller's maximum (C7) */
	NTP_ZERO_TIME,		/* T2 or T3 zero (C8) */
	NTP_BAD_PROCESSING,	/* T3 - T2 negative or above 4 s (C8) */
	NTP_BAD_REFTIME,	/* reference time after T3 (C8) */
};

/* Fill buf[48] with a mode-3 VN4 request whose transmit timestamp is cookie
 * (a random value, RFC 5905 s8 / draft-ietf-ntp-data-minimization: the real
 * T1 stays with us). Every other field is zero. */
void ntp_request_encode(uint8_t buf[NTP_HEADER_LEN], uint64_t cookie);

/* Parse a datagram into *p: length and extension fields (C2) only. Returns
 * NTP_VALID or NTP_BAD_LENGTH. */
enum ntp_check ntp_packet_parse(const uint8_t *buf, size_t len, struct ntp_packet *p);

/* Validate a parsed reply to the request with transmit timestamp cookie and
 * version req_version: C3 to C8, in the order a spoofed packet is best
 * caught (origin first). max_stratum is 1-15. */
enum ntp_check ntp_reply_check(const struct ntp_packet *p, uint64_t cookie,
			       unsigned req_version, unsigned max_stratum);

/* Short name of a check result ("origin mismatch", ...), static. */
const char *ntp_check_str(enum ntp_check c);

/* The kiss code of a stratum-0 reply as text into out[5] (non-printable
 * bytes shown as '?'). Returns out. */
const char *ntp_kiss_code(const struct ntp_packet *p, char out[5]);

/* Timestamp of a wall-clock time (seconds since the Unix epoch, any era:
 * the result wraps modulo 2^32 s as NTP does, so 2036-02-07 06:28:16 UTC is
 * era 1, second 0). Nanoseconds are rounded to the nearest 2^-32 s. */
uint64_t ntp_ts_from_timespec(const struct timespec *ts);
/* Wall-clock time of a timestamp, the era chosen so the result lies within
 * 2^31 s of pivot (usually now, RFC 5905 s6). */
struct timespec ntp_ts_to_timespec(uint64_t ts, time_t pivot);

/* a - b as signed 32.32, correct across an era boundary as long as the two
 * lie within 68 years of each other (RFC 5905 s6: modular arithmetic). */
ntp_fp ntp_ts_diff(uint64_t a, uint64_t b);
/* A 16.16 short as 32.32. */
ntp_fp ntp_short_to_fp(uint32_t s);
/* offset = ((T2 - T1) + (T3 - T4)) / 2, rounded towards minus infinity to
 * 2^-32 s; no floating point, no overflow within +-68 years. */
ntp_fp ntp_offset(uint64_t t1, uint64_t t2, uint64_t t3, uint64_t t4);
/* delay = (T4 - T1) - (T3 - T2), saturated at the int64 range. */
ntp_fp ntp_delay(uint64_t t1, uint64_t t2, uint64_t t3, uint64_t t4);
/* Root distance (RFC 5905 A.5.5.3 without the dispersion growth):
 * (max(delay, 0) + root delay) / 2 + root dispersion. */
ntp_fp ntp_root_distance(ntp_fp delay, const struct ntp_packet *p);
/* 2^precision seconds as 32.32 (0 below 2^-32, capped at 2^31 s). */
ntp_fp ntp_precision_fp(int precision);
/* Nanoseconds of a 32.32 value, rounded to nearest; exact for |v| < 2^31 s. */
int64_t ntp_fp_to_ns(ntp_fp v);
/* 32.32 value of nanoseconds, rounded to nearest. */
ntp_fp ntp_fp_from_ns(int64_t ns);
/* Seconds as a double, for display only. */
double ntp_fp_to_double(ntp_fp v);

#endif
