from piccolo.columns import Boolean, ForeignKey, Serial, SmallInt, Text, Varchar
from piccolo.table import Table


class Topic(Table):
    id: Serial
    slug = Varchar(length=40, unique=True)
    name = Varchar(length=200)


class Question(Table):
    id: Serial
    topic = ForeignKey(Topic, index=True)
    text = Text()
    explanation = Text(default="")
    active = Boolean(default=True)


class Option(Table):
    id: Serial
    question = ForeignKey(Question, index=True)
    position = SmallInt()
    text = Text()
    # The answer key: read only by scoring, never sent to a browser before a round closes.
    is_correct = Boolean(default=False)
