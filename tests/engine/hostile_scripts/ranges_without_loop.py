# expect: runtime: memorie|timp
a = list(range(1800000))
b = list(range(1800000))
c = list(range(1800000))
