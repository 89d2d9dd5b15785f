/*
 * text: numbers as the JSON the project writes (pure).
 */
#ifndef PORTADA_TEXT_H
#define PORTADA_TEXT_H

#define PW_TEXT_DOUBLE_SIZE 32

/*
 * d (finite) as the shortest decimal that reads back as d, with ".0" added
 * when it would otherwise look like an integer (as Spark and Python write
 * doubles): 0.1 → "0.1", 3.0 → "3.0", 2.5e-07 → "2.5e-07".  The daemon
 * never calls setlocale(), so '.' is the decimal point.
 */
void pw_text_double(double d, char out[PW_TEXT_DOUBLE_SIZE]);

#endif
