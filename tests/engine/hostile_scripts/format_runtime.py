# expect: runtime: format
spec = '{0.' + '_' + '_class_' + '_}'
x = spec.format(1)
