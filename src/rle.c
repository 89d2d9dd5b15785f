/*
 * Parquet RLE / bit-packing hybrid encoder (see include/portada/rle.h).
 */
#include <assert.h>
#include <stdint.h>

#include "portada/buf.h"
#include "portada/rle.h"

/* Shorter than this, a run is cheaper inside a bit-packed group. */
#define MIN_RLE_RUN	8

/* Level and index widths come from the largest value that can occur. */
unsigned
pw_rle_bit_width(uint32_t max_value)
{
	unsigned w = 0;

	while (max_value != 0) {
		w++;
		max_value >>= 1;
	}
	return w;
}

/* How many values equal values[i] from i on. */
static size_t
run_length(const uint32_t *values, size_t n, size_t i)
{
	size_t j = i + 1;

	while (j < n && values[j] == values[i])
		j++;
	return j - i;
}

/* One RLE run: the value in the fewest whole bytes that hold bit_width. */
static int
put_rle_run(struct pw_buf *b, uint32_t value, size_t count, unsigned bit_width)
{
	unsigned nbytes = (bit_width + 7) / 8, i;

	if (pw_buf_append_uvarint(b, (uint64_t)count << 1) == -1)
		return -1;
	for (i = 0; i < nbytes; i++)
		if (pw_buf_append_byte(b, (unsigned char)(value >> (8 * i))) == -1)
			return -1;
	return 0;
}

/*
 * One bit-packed run of values[start..end), padded with zeros to a whole
 * number of groups of 8.  A group of 8 values is exactly bit_width bytes,
 * so the bit accumulator (< 8 + 32 bits) is empty after each group.
 */
static int
put_packed_run(struct pw_buf *b, const uint32_t *values, size_t start,
    size_t end, unsigned bit_width)
{
	size_t groups = (end - start + 7) / 8, i;
	uint64_t acc = 0;
	unsigned nbits = 0;

	if (pw_buf_append_uvarint(b, (uint64_t)groups << 1 | 1) == -1)
		return -1;
	if (pw_buf_reserve(b, groups * bit_width) == -1)
		return -1;
	for (i = start; i < start + groups * 8; i++) {
		uint64_t v = i < end ? values[i] : 0;

		acc |= v << nbits;
		nbits += bit_width;
		while (nbits >= 8) {
			b->data[b->len++] = (unsigned char)(acc & 0xFF);
			acc >>= 8;
			nbits -= 8;
		}
	}
	assert(nbits == 0);
	return 0;
}

/*
 * The runs are written as found; any failure takes everything back, since
 * half an encoding is useless to the page that would hold it.
 */
static int
encode(struct pw_buf *b, const uint32_t *values, size_t n, unsigned bit_width)
{
	size_t i = 0;

	while (i < n) {
		size_t r = run_length(values, n, i);
		size_t start;

		if (r >= MIN_RLE_RUN || i + r == n) {
			if (put_rle_run(b, values[i], r, bit_width) == -1)
				return -1;
			i += r;
			continue;
		}
		/*
		 * Bit-pack until a long run starts on a group boundary.  A long
		 * run that starts mid-group gives the group its first values.
		 */
		start = i;
		while (i < n) {
			size_t fill = (i - start) % 8;

			r = run_length(values, n, i);
			if (r >= MIN_RLE_RUN && fill == 0)
				break;
			if (r >= MIN_RLE_RUN)
				i += 8 - fill;
			else
				i += r;
		}
		if (put_packed_run(b, values, start, i, bit_width) == -1)
			return -1;
	}
	return 0;
}

/* Bad input is refused before a byte is written. */
static int
check_args(const uint32_t *values, size_t n, unsigned bit_width)
{
	size_t i;

	if (bit_width > 32)
		return -1;
	if (bit_width == 32)
		return 0;
	for (i = 0; i < n; i++)
		if (values[i] >> bit_width != 0)
			return -1;
	return 0;
}

/* The encoding that levels and dictionary indices share. */
int
pw_rle_encode(struct pw_buf *b, const uint32_t *values, size_t n, unsigned bit_width)
{
	size_t mark = b->len;

	if (check_args(values, n, bit_width) == -1)
		return -1;
	if (encode(b, values, n, bit_width) == -1) {
		pw_buf_truncate(b, mark);
		return -1;
	}
	return 0;
}

/* Data page v1 levels carry their own length; it is known only afterwards. */
int
pw_rle_encode_with_length(struct pw_buf *b, const uint32_t *values, size_t n,
    unsigned bit_width)
{
	size_t mark = b->len, len;
	int i;

	if (check_args(values, n, bit_width) == -1)
		return -1;
	if (pw_buf_append_u32le(b, 0) == -1)
		return -1;
	if (encode(b, values, n, bit_width) == -1)
		goto fail;
	len = b->len - mark - 4;
	if (len > UINT32_MAX)
		goto fail;
	for (i = 0; i < 4; i++)
		b->data[mark + (size_t)i] = (unsigned char)(len >> (8 * i));
	return 0;
fail:
	pw_buf_truncate(b, mark);
	return -1;
}
