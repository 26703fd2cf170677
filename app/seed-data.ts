/**
 * The talk's data set: the demo database starts with famous British names in full_name. A few
 * are there to exercise the rules, not just to look nice:
 * - middle names ("Winston Leonard Spencer Churchill"): the last name takes everything after the first word;
 * - "Mary  Shelley" with two spaces: whatever the new columns hold, v1 must read it back byte for byte;
 * - "Twiggy " with a trailing space: it does not round-trip (down(up(x)) is "Twiggy"), so the old
 *   column must keep exactly what its writer wrote;
 * - one word ("Adele"): no last name; non-ASCII ("Charlotte Brontë") and a quote ("Patrick O'Brian").
 */
export const TALK_CUSTOMERS: readonly string[] = [
  'Ada Lovelace',
  'Alan Turing',
  'Isaac Newton',
  'Jane Austen',
  'Charles Darwin',
  'Florence Nightingale',
  'William Shakespeare',
  'Winston Leonard Spencer Churchill',
  'Emmeline Pankhurst',
  'Tim Berners-Lee',
  'Rosalind Franklin',
  'Stephen Hawking',
  'David Attenborough',
  'Freddie Mercury',
  'John Winston Lennon',
  'Elton Hercules John',
  'Agatha Christie',
  'Charlotte Brontë',
  'Virginia Woolf',
  'J. K. Rowling',
  'Mary  Shelley',
  'Twiggy ',
  'Adele',
  "Patrick O'Brian",
  'Idris Elba',
  'Zadie Smith',
];

/** The customer v2 creates during the talk's canary, populated across the new columns. */
export const NEW_CUSTOMER = 'John Vin';
