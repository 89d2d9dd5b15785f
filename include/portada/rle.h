/*
 * rle: Parquet's RLE / bit-packing hybrid encoding (encoding RLE = 3),
 * used for repetition and definition levels and dictionary indices.
 *
 * Spec: apache/parquet-format Encodings.md.  The encoded data is a
 * sequence of runs:
 *	RLE run:	varint(count << 1), then the value in
 *			ceil(bit_width / 8) little-endian bytes;
 *	bit-packed run:	varint(groups << 1 | 1), then groups * 8 values
 *			of bit_width bits each, packed LSB first.
 * This encoder uses an RLE run for 8 or more equal values in a row (or for
 * whatever is left at the end when it is all one value) and bit-packs the
 * rest, padding the final group with zeros.  A reader knows the number of
 * values from the page header and ignores the padding.
 */
#ifndef PORTADA_RLE_H
#define PORTADA_RLE_H

#include <stddef.h>
#include <stdint.h>

#include "portada/buf.h"
#include "portada/error.h"

/* The number of bits needed to store max_value: 0 for 0, 1 for 1, 2 for
 * 2..3, ..., 32 for values of 2^31 and above. */
unsigned pw_rle_bit_width(uint32_t max_value);

/*
 * Append values[0..n) at bit_width (0..32) to b.  -1, with b unchanged,
 * if it would cross b's limit, bit_width > 32, or a value does not fit in
 * bit_width bits.  n == 0 appends nothing.
 */
int pw_rle_encode(struct pw_buf *b, const uint32_t *values, size_t n,
    unsigned bit_width) PW_MUST_CHECK;

/*
 * As pw_rle_encode(), preceded by the length of the encoded data as 4
 * little-endian bytes: the form data page v1 uses for its levels.  -1,
 * with b unchanged, on the same conditions or if the length needs more
 * than 32 bits.
 */
int pw_rle_encode_with_length(struct pw_buf *b, const uint32_t *values,
    size_t n, unsigned bit_width) PW_MUST_CHECK;

#endif
