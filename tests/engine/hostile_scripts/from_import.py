# expect: static
from os import system
system('true')
