/*
 * text: numbers as the JSON the project writes (pure).
 */
#ifndef PORTADA_TEXT_H
#define PORTADA_TEXT_H

#define PW_TEXT_DOUBLE_SIZE 32

/*
 * d (finite) as Python's repr() writes it, which PortAda's data layer
 * shows: the fewest digits that read back as d, in fixed notation for
 * exponents -4 to 15 (with ".0" when it would look like an integer) and
 * scientific notation outside them: 0.1 → "0.1", 20.0 → "20.0",
 * 1e16 → "1e+16", 2.5e-07 → "2.5e-07".  The daemon never calls setlocale(),
 * so '.' is the decimal point.
 */
void pw_text_double(double d, char out[PW_TEXT_DOUBLE_SIZE]);

#endif
