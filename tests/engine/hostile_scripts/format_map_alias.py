# expect: static
x = '{a.__class__}'.format_map({'a': 1})
