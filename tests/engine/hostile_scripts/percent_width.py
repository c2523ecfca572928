# expect: runtime: memorie
x = '%1000000000d' % 1
