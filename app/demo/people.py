"""Names, interests and notes the demo club's members are made of (deterministic)."""

from __future__ import annotations

FIRST_NAMES_F = [
    "Anna",
    "Maria",
    "Elena",
    "Olga",
    "Natalia",
    "Irina",
    "Svetlana",
    "Tatiana",
    "Ekaterina",
    "Yulia",
    "Daria",
    "Polina",
    "Ksenia",
    "Alina",
    "Victoria",
    "Sofia",
    "Veronika",
    "Marina",
    "Alexandra",
    "Valeria",
]
FIRST_NAMES_M = [
    "Alexei",
    "Dmitry",
    "Sergei",
    "Andrei",
    "Ivan",
    "Mikhail",
    "Nikolai",
    "Pavel",
    "Artem",
    "Maxim",
    "Roman",
    "Egor",
    "Kirill",
    "Denis",
    "Ilya",
    "Vladimir",
    "Oleg",
    "Yuri",
    "Timur",
    "Gleb",
]
LAST_NAMES = [
    "Ivanov",
    "Smirnov",
    "Kuznetsov",
    "Popov",
    "Vasiliev",
    "Petrov",
    "Sokolov",
    "Mikhailov",
    "Novikov",
    "Fedorov",
    "Morozov",
    "Volkov",
    "Alekseev",
    "Lebedev",
    "Semenov",
    "Egorov",
    "Pavlov",
    "Kozlov",
    "Stepanov",
    "Nikolaev",
    "Orlov",
    "Andreev",
    "Makarov",
    "Nikitin",
    "Zakharov",
    "Zaitsev",
    "Soloviev",
    "Borisov",
    "Yakovlev",
    "Grigoriev",
]

INTERESTS = (
    "swimming",
    "yoga",
    "boxing",
    "functional training",
    "pilates",
    "sauna",
    "running",
    "cycling",
    "personal training",
    "stretching",
    "strength",
    "group classes",
)

GOALS = (
    "Lose 8 kg before the summer holiday.",
    "Get back in shape after a knee injury.",
    "Run a half marathon in the autumn.",
    "Build strength; works at a desk all day.",
    "Swim twice a week with the children.",
    "Keep fit and meet people; retired this year.",
    None,
    None,
)

HANDOFF_NOTES = (
    "Bought after a trial week; loves the pool. Prefers calls after 18:00.",
    "Came with a friend (also a member). Price-sensitive: asked twice about discounts.",
    "Recovering from a knee operation: trainer suggested pilates, no heavy squats.",
    "Works shifts, trains mornings on weekdays. Do not call before 10:00.",
    "Wants a personal trainer later; budget is tight until the spring.",
    "Former member of a competitor club across the river; left over crowded evenings.",
    "Very keen on group classes, especially Tuesday yoga with Marina.",
    "Asked about freezing for a business trip in the summer.",
)

PERSONAL_DATES = (
    ("family_birthday", "03-08", "Daughter's birthday"),
    ("anniversary", "06-14", "Wedding anniversary"),
    ("name_day", "12-25", "Name day"),
    ("other", "09-01", "Children back to school"),
)

FREEZE_REASONS = ("Business trip", "Knee injury, doctor's note", "Holiday at the seaside")

# (category, what the member said at the desk, severity)
COMPLAINTS = (
    ("cleanliness", "The women's changing room was not cleaned all evening.", "medium"),
    ("classes", "The Saturday yoga class was cancelled without any notice.", "low"),
    ("equipment", "Half of the treadmills have been out of order for a week.", "high"),
)
