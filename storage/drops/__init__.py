"""Reservation drops: the drops (`drops`), reservations (`reservations`), the flash-claim store
(`claims`), slots shared by every way of winning (`slots`), F-codes (`fcodes`), lottery draws,
deadlines and the waiting list (`wins`), and linked accounts (`account_merge`)."""
