# Our Spanish is Latin American: Colombia, Argentina, Chile and Ecuador write 1.234.567,89.
# Django's generic "es" uses Spain's non-breaking space. Only what differs is set here; every
# other format falls back to Django's own "es" module.
THOUSAND_SEPARATOR = "."
