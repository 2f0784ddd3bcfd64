// A custom cast (fastData.casts): integer cents to euros; anything else is a cast failure (stored as null).
export function centsToEuro(value) {
  const cents = Number(value);
  return Number.isInteger(cents) ? cents / 100 : undefined;
}
