"""A period as Dutch writes it, singular or plural: "1 maand", "3 maanden", "1 week", "4 weken".

Every period a form or message shows comes from the loaded deal file, so its number is not known in
advance: "opzegtermijn van 1 maanden" was what a fixed plural gave another deal."""

#: unit -> (singular, plural)
DUTCH = {'day': ('dag', 'dagen'), 'week': ('week', 'weken'), 'month': ('maand', 'maanden'), 'year': ('jaar', 'jaar')}
ENGLISH = {'day': ('day', 'days'), 'week': ('week', 'weeks'), 'month': ('month', 'months'), 'year': ('year', 'years')}


def period(count, unit, language='nl'):
    singular, plural = (DUTCH if language == 'nl' else ENGLISH)[unit]
    return f'{count} {singular if count == 1 else plural}'


def weken(count):
    return period(count, 'week')


def maanden(count):
    return period(count, 'month')


def dagen(count):
    return period(count, 'day')
