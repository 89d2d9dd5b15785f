/*
 * Tests for src/sha256.c: the FIPS 180-2 example messages (NIST's published
 * digests), RFC 4231's HMAC-SHA256 test cases 1-7, and every length across
 * the padding boundaries fed whole and in pieces.  Also src/sha1.c (named
 * scripts for EVALSHA): FIPS 180-2's SHA-1 examples and the SHA-1 Redis
 * gives a script, across the one/two padding block edge.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portada/sha1.h"
#include "portada/sha256.h"

static void
hex(const unsigned char *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
}

static void
check_sha(const void *data, size_t n, const char *want)
{
	unsigned char md[PW_SHA256_SIZE];
	char got[2 * PW_SHA256_SIZE + 1];

	pw_sha256(data, n, md);
	hex(md, sizeof md, got);
	ck_assert_str_eq(got, want);
}

static void
check_sha1(const void *data, size_t n, const char *want)
{
	unsigned char md[PW_SHA1_SIZE];
	char got[2 * PW_SHA1_SIZE + 1];

	pw_sha1(data, n, md);
	hex(md, sizeof md, got);
	ck_assert_str_eq(got, want);
}

START_TEST(sha1_examples)
{
	char *a = malloc(1000000);

	check_sha1("", 0, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
	check_sha1("abc", 3, "a9993e364706816aba3e25717850c26c9cd0d89d");
	check_sha1("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56,
	    "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
	/* 55 and 64 bytes: padding fits in the block, or takes another. */
	check_sha1("0123456789012345678901234567890123456789012345678901234", 55,
	    "9f3a4ce7f66b1b74c34da2c5d732c39f81e0f8df");
	check_sha1("0123456789012345678901234567890123456789012345678901234567890123", 64,
	    "cf0800f7644ace3cb4c3fa33388d3ba0ea3c8b6e");
	/* SCRIPT LOAD "return 1" answers this. */
	check_sha1("return 1", 8, "e0e1f9fabfc9d4800c877a703b823ac0578ff8db");
	ck_assert_ptr_nonnull(a);
	memset(a, 'a', 1000000);
	check_sha1(a, 1000000, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
	free(a);
}
END_TEST

START_TEST(nist_examples)
{
	check_sha("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	check_sha("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	check_sha("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56,
	    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	check_sha("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
	    "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu", 112,
	    "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}
END_TEST

/* One million 'a's, fed in uneven pieces to cross block edges. */
START_TEST(million_a)
{
	static char a[1024];	/* the longest step is 1009 */
	struct pw_sha256 s;
	unsigned char md[PW_SHA256_SIZE];
	char got[2 * PW_SHA256_SIZE + 1];
	size_t left = 1000000, step = 1;

	memset(a, 'a', sizeof a);
	pw_sha256_init(&s);
	while (left > 0) {
		size_t n = step < left ? step : left;

		pw_sha256_update(&s, a, n);
		left -= n;
		step = step % 997 + 13;
	}
	pw_sha256_final(&s, md);
	hex(md, sizeof md, got);
	ck_assert_str_eq(got, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}
END_TEST

/*
 * Lengths 0..200 (every padding case: 55, 56, 63, 64, ...), each hashed
 * whole and byte by byte; the digest of all the digests was computed with
 * Python's hashlib.
 */
START_TEST(all_lengths)
{
	unsigned char msg[200], md[PW_SHA256_SIZE], md2[PW_SHA256_SIZE];
	struct pw_sha256 acc, s;
	char got[2 * PW_SHA256_SIZE + 1];

	for (size_t i = 0; i < sizeof msg; i++)
		msg[i] = (unsigned char)(i * 7 + 3);
	pw_sha256_init(&acc);
	for (size_t n = 0; n <= sizeof msg; n++) {
		pw_sha256(msg, n, md);
		pw_sha256_init(&s);
		for (size_t i = 0; i < n; i++)
			pw_sha256_update(&s, msg + i, 1);
		pw_sha256_final(&s, md2);
		ck_assert_mem_eq(md, md2, sizeof md);
		pw_sha256_update(&acc, md, sizeof md);
	}
	pw_sha256_final(&acc, md);
	hex(md, sizeof md, got);
	ck_assert_str_eq(got, "3275febb4612d86d586eb9f11cd21e648a9fc7d95e0f6b8d362786e28c9c5b79");
}
END_TEST

static const struct {
	const char	*key;	/* NULL: keylen times fill */
	unsigned char	 fill;
	size_t		 keylen;
	const char	*data;
	size_t		datalen;
	const char	*mac;	/* case 5 is truncated to 128 bits */
} rfc4231[] = {
	{ NULL, 0x0b, 20, "Hi There", 8,
	  "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7" },
	{ "Jefe", 0, 4, "what do ya want for nothing?", 28,
	  "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" },
	{ NULL, 0xaa, 20,
	  "\xdd\xdd\xdd\xdd\xdd\xdd\xdd\xdd\xdd\xdd\xdd\xdd\xdd\xdd\xdd\xdd\xdd\xdd\xdd\xdd"
	  "\xdd\xdd\xdd\xdd\xdd\xdd\xdd\xdd\xdd\xdd\xdd\xdd\xdd\xdd\xdd\xdd\xdd\xdd\xdd\xdd"
	  "\xdd\xdd\xdd\xdd\xdd\xdd\xdd\xdd\xdd\xdd", 50,
	  "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe" },
	{ "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13"
	  "\x14\x15\x16\x17\x18\x19", 0, 25,
	  "\xcd\xcd\xcd\xcd\xcd\xcd\xcd\xcd\xcd\xcd\xcd\xcd\xcd\xcd\xcd\xcd\xcd\xcd\xcd\xcd"
	  "\xcd\xcd\xcd\xcd\xcd\xcd\xcd\xcd\xcd\xcd\xcd\xcd\xcd\xcd\xcd\xcd\xcd\xcd\xcd\xcd"
	  "\xcd\xcd\xcd\xcd\xcd\xcd\xcd\xcd\xcd\xcd", 50,
	  "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b" },
	{ NULL, 0x0c, 20, "Test With Truncation", 20,
	  "a3b6167473100ee06e0c796c2955552b" },
	{ NULL, 0xaa, 131, "Test Using Larger Than Block-Size Key - Hash Key First", 54,
	  "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54" },
	{ NULL, 0xaa, 131,
	  "This is a test using a larger than block-size key and a larger than block-size data. "
	  "The key needs to be hashed before being used by the HMAC algorithm.", 152,
	  "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2" },
};

START_TEST(hmac_rfc4231)
{
	unsigned char key[131], mac[PW_SHA256_SIZE];
	char got[2 * PW_SHA256_SIZE + 1];
	size_t want_len = strlen(rfc4231[_i].mac);

	ck_assert_uint_le(rfc4231[_i].keylen, sizeof key);
	if (rfc4231[_i].key != NULL)
		memcpy(key, rfc4231[_i].key, rfc4231[_i].keylen);
	else
		memset(key, rfc4231[_i].fill, rfc4231[_i].keylen);
	ck_assert_uint_eq(strlen(rfc4231[_i].data), rfc4231[_i].datalen);
	pw_hmac_sha256(key, rfc4231[_i].keylen, rfc4231[_i].data,
	    rfc4231[_i].datalen, mac);
	hex(mac, sizeof mac, got);
	got[want_len] = '\0';
	ck_assert_str_eq(got, rfc4231[_i].mac);
}
END_TEST

static Suite *
sha256_suite(void)
{
	Suite *s = suite_create("sha256");
	TCase *tc = tcase_create("sha256");

	tcase_add_test(tc, nist_examples);
	tcase_add_test(tc, sha1_examples);
	tcase_add_test(tc, million_a);
	tcase_add_test(tc, all_lengths);
	tcase_add_loop_test(tc, hmac_rfc4231, 0, (int)(sizeof rfc4231 / sizeof rfc4231[0]));
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(sha256_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
