# expect: static
x = '{0.__class__}'.format(1)
