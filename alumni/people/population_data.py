"""Tables behind the sample population (``alumni.people.seeding``): countries, cities, names,
programmes.

Each country carries its cities with their IANA time zones, its locales (BCP 47) and native
names, romanised where the script is not Latin. Weights are relative shares of the alumni body.
"""

# Turkish names are spelt with the dotless i (U+0131) on purpose.
# ruff: noqa: RUF001

from __future__ import annotations

from dataclasses import dataclass


# A city and the zone its clocks follow; `locale` overrides the country's mix (e.g. Montréal).
@dataclass(frozen=True)
class City:
    name: str
    timezone: str
    weight: int = 1
    locale: str | None = None


# A country (ISO 3166-1 alpha-2) and what alumni living there look like.
@dataclass(frozen=True)
class Country:
    code: str
    weight: int
    locales: tuple[tuple[str, int], ...]
    cities: tuple[City, ...]
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]


def _names(text: str) -> tuple[str, ...]:
    return tuple(text.split(", "))


COUNTRIES: tuple[Country, ...] = (
    Country(
        code="GB",
        weight=16,
        locales=(("en-GB", 1),),
        cities=(
            City("London", "Europe/London", 5),
            City("Manchester", "Europe/London"),
            City("Birmingham", "Europe/London"),
            City("Leeds", "Europe/London"),
            City("Bristol", "Europe/London"),
            City("Edinburgh", "Europe/London"),
            City("Glasgow", "Europe/London"),
            City("Cardiff", "Europe/London"),
            City("Belfast", "Europe/London"),
        ),
        first_names=_names(
            "Oliver, Amelia, Harry, Zoë, George, Charlotte, Jack, Sophie, Thomas, Isla, Rhys, "
            "Siobhan, Aaliyah, Mohammed"
        ),
        last_names=_names(
            "Smith, Jones, Williams, Taylor, Brown, Davies, Evans, Wilson, Roberts, O'Brien, "
            "Patel, Khan, Smith-Jones, Fraser"
        ),
    ),
    Country(
        code="US",
        weight=12,
        locales=(("en-US", 88), ("es-US", 12)),
        cities=(
            City("New York", "America/New_York", 4),
            City("Boston", "America/New_York", 2),
            City("Atlanta", "America/New_York"),
            City("Chicago", "America/Chicago", 2),
            City("Houston", "America/Chicago"),
            City("Denver", "America/Denver"),
            City("Phoenix", "America/Phoenix"),
            City("Los Angeles", "America/Los_Angeles", 2),
            City("San Francisco", "America/Los_Angeles", 2),
            City("Seattle", "America/Los_Angeles"),
            City("Anchorage", "America/Anchorage"),
            City("Honolulu", "Pacific/Honolulu"),
        ),
        first_names=_names(
            "James, Mary, Michael, Jennifer, David, Linda, Robert, Patricia, Tyler, Ashley, "
            "DeShawn, Emily, Carlos, Mei"
        ),
        last_names=_names(
            "Smith, Johnson, Williams, Brown, Jones, Garcia, Miller, Davis, Rodriguez, Martinez, "
            "Wilson, Anderson, Nguyen, Washington"
        ),
    ),
    Country(
        code="IN",
        weight=7,
        locales=(("en-IN", 55), ("hi-IN", 45)),
        cities=(
            City("Mumbai", "Asia/Kolkata", 2),
            City("Delhi", "Asia/Kolkata", 2),
            City("Bengaluru", "Asia/Kolkata", 2),
            City("Chennai", "Asia/Kolkata", 1, "ta-IN"),
            City("Kolkata", "Asia/Kolkata"),
            City("Hyderabad", "Asia/Kolkata"),
            City("Pune", "Asia/Kolkata"),
        ),
        first_names=_names(
            "Aarav, Priya, Rahul, Ananya, Vikram, Deepika, Arjun, Lakshmi, Rohan, Sneha, "
            "Siddharth, Kavya"
        ),
        last_names=_names(
            "Sharma, Patel, Singh, Kumar, Gupta, Reddy, Iyer, Nair, Das, Banerjee, Mukherjee, "
            "Chatterjee"
        ),
    ),
    Country(
        code="CA",
        weight=5,
        locales=(("en-CA", 1),),
        cities=(
            City("Toronto", "America/Toronto", 4),
            City("Ottawa", "America/Toronto"),
            City("Montréal", "America/Toronto", 3, "fr-CA"),
            City("Québec", "America/Toronto", 1, "fr-CA"),
            City("Vancouver", "America/Vancouver", 2),
            City("Calgary", "America/Edmonton"),
            City("Winnipeg", "America/Winnipeg"),
            City("Regina", "America/Regina"),
            City("Halifax", "America/Halifax"),
            City("St. John's", "America/St_Johns"),
        ),
        first_names=_names(
            "Liam, Olivia, Noah, Emma, Félix, Chloé, William, Léa, Ethan, Maya, Gabriel, Amélie"
        ),
        last_names=_names(
            "Tremblay, Gagnon, Roy, Côté, Bouchard, Smith, Brown, MacDonald, Wilson, Lee, Martin, "
            "Bélanger"
        ),
    ),
    Country(
        code="AU",
        weight=5,
        locales=(("en-AU", 1),),
        cities=(
            City("Sydney", "Australia/Sydney", 4),
            City("Melbourne", "Australia/Melbourne", 3),
            City("Brisbane", "Australia/Brisbane", 2),
            City("Perth", "Australia/Perth", 2),
            City("Adelaide", "Australia/Adelaide"),
            City("Canberra", "Australia/Sydney"),
            City("Hobart", "Australia/Hobart"),
            City("Darwin", "Australia/Darwin"),
        ),
        first_names=_names(
            "Jack, Charlotte, William, Olivia, Noah, Mia, Lachlan, Chloe, Cooper, Isla, Jayden, "
            "Matilda"
        ),
        last_names=_names(
            "Smith, Jones, Williams, Brown, Wilson, Taylor, Nguyen, Kelly, Martin, Anderson, "
            "White, O'Connor"
        ),
    ),
    Country(
        code="DE",
        weight=5,
        locales=(("de-DE", 1),),
        cities=(
            City("Berlin", "Europe/Berlin"),
            City("Hamburg", "Europe/Berlin"),
            City("München", "Europe/Berlin"),
            City("Köln", "Europe/Berlin"),
            City("Frankfurt am Main", "Europe/Berlin"),
            City("Stuttgart", "Europe/Berlin"),
            City("Düsseldorf", "Europe/Berlin"),
            City("Leipzig", "Europe/Berlin"),
        ),
        first_names=_names(
            "Lukas, Anna, Jürgen, Sophie, Maximilian, Lena, Jörg, Marie, Felix, Jana, Björn, Käthe"
        ),
        last_names=_names(
            "Müller, Schmidt, Schneider, Fischer, Weber, Meyer, Wagner, Becker, Schäfer, Koch, "
            "Groß, Köhler"
        ),
    ),
    Country(
        code="FR",
        weight=4,
        locales=(("fr-FR", 1),),
        cities=(
            City("Paris", "Europe/Paris"),
            City("Paris", "Europe/Paris"),
            City("Lyon", "Europe/Paris"),
            City("Marseille", "Europe/Paris"),
            City("Toulouse", "Europe/Paris"),
            City("Lille", "Europe/Paris"),
            City("Nantes", "Europe/Paris"),
            City("Bordeaux", "Europe/Paris"),
        ),
        first_names=_names(
            "Jean, Marie, François, Hélène, Zoé, Léa, Théo, Chloé, Mathieu, Inès, Benoît, Margaux"
        ),
        last_names=_names(
            "Martin, Bernard, Dubois, Thomas, Robert, Richard, Petit, Durand, Lefèvre, Moreau, "
            "Girard, Fontaine"
        ),
    ),
    Country(
        code="CN",
        weight=4,
        locales=(("zh-CN", 1),),
        cities=(
            City("Beijing", "Asia/Shanghai"),
            City("Shanghai", "Asia/Shanghai"),
            City("Guangzhou", "Asia/Shanghai"),
            City("Shenzhen", "Asia/Shanghai"),
            City("Chengdu", "Asia/Shanghai"),
            City("Hangzhou", "Asia/Shanghai"),
            City("Wuhan", "Asia/Shanghai"),
            City("Ürümqi", "Asia/Urumqi"),
        ),
        first_names=_names("Wei, Fang, Jing, Lei, Min, Yang, Xiaoming, Lina, Hao, Yan, Jun, Xin"),
        last_names=_names("Wang, Li, Zhang, Liu, Chen, Yang, Huang, Zhao, Wu, Zhou, Xu, Lü"),
    ),
    Country(
        code="IE",
        weight=3,
        locales=(("en-IE", 9), ("ga-IE", 1)),
        cities=(
            City("Dublin", "Europe/Dublin"),
            City("Dublin", "Europe/Dublin"),
            City("Cork", "Europe/Dublin"),
            City("Galway", "Europe/Dublin"),
            City("Limerick", "Europe/Dublin"),
        ),
        first_names=_names(
            "Aoife, Seán, Niamh, Ciarán, Siobhán, Oisín, Róisín, Pádraig, Éabha, Conor, Saoirse, "
            "Darragh"
        ),
        last_names=_names(
            "Murphy, Kelly, O'Sullivan, Walsh, O'Brien, Byrne, Ryan, O'Connor, Ó Briain, "
            "Mac Cárthaigh, Doyle, McCarthy"
        ),
    ),
    Country(
        code="ES",
        weight=3,
        locales=(("es-ES", 85), ("ca-ES", 15)),
        cities=(
            City("Madrid", "Europe/Madrid", 3),
            City("Barcelona", "Europe/Madrid", 2, "ca-ES"),
            City("Valencia", "Europe/Madrid"),
            City("Sevilla", "Europe/Madrid"),
            City("Bilbao", "Europe/Madrid"),
            City("Las Palmas de Gran Canaria", "Atlantic/Canary"),
            City("Santa Cruz de Tenerife", "Atlantic/Canary"),
        ),
        first_names=_names(
            "Javier, Lucía, Alejandro, María José, Sergio, Carmen, Pablo, Nuria, Íñigo, Begoña, "
            "Álvaro, Paula"
        ),
        last_names=_names(
            "García, Fernández, González, Rodríguez, López, Martínez, Sánchez, Pérez, Gómez, "
            "Muñoz, Núñez, Jiménez"
        ),
    ),
    Country(
        code="IT",
        weight=3,
        locales=(("it-IT", 1),),
        cities=(
            City("Roma", "Europe/Rome"),
            City("Milano", "Europe/Rome"),
            City("Napoli", "Europe/Rome"),
            City("Torino", "Europe/Rome"),
            City("Bologna", "Europe/Rome"),
            City("Firenze", "Europe/Rome"),
            City("Palermo", "Europe/Rome"),
        ),
        first_names=_names(
            "Giuseppe, Maria, Francesco, Giulia, Alessandro, Chiara, Lorenzo, Francesca, Niccolò, "
            "Sofia, Matteo, Federica"
        ),
        last_names=_names(
            "Rossi, Russo, Ferrari, Esposito, Bianchi, Romano, Colombo, Ricci, Marino, Greco, "
            "D'Angelo, De Luca"
        ),
    ),
    Country(
        code="NL",
        weight=3,
        locales=(("nl-NL", 1),),
        cities=(
            City("Amsterdam", "Europe/Amsterdam"),
            City("Rotterdam", "Europe/Amsterdam"),
            City("Den Haag", "Europe/Amsterdam"),
            City("Utrecht", "Europe/Amsterdam"),
            City("Eindhoven", "Europe/Amsterdam"),
            City("Groningen", "Europe/Amsterdam"),
        ),
        first_names=_names(
            "Daan, Emma, Sem, Julia, Lars, Sanne, Bram, Fleur, Thijs, Anouk, Joël, Maaike"
        ),
        last_names=_names(
            "de Jong, Jansen, de Vries, van den Berg, van Dijk, Bakker, Visser, Smit, Meijer, "
            "de Boer, Mulder, van der Meer"
        ),
    ),
    Country(
        code="NG",
        weight=3,
        locales=(("en-NG", 1),),
        cities=(
            City("Lagos", "Africa/Lagos"),
            City("Lagos", "Africa/Lagos"),
            City("Abuja", "Africa/Lagos"),
            City("Ibadan", "Africa/Lagos"),
            City("Port Harcourt", "Africa/Lagos"),
            City("Kano", "Africa/Lagos"),
        ),
        first_names=_names(
            "Chinedu, Ngozi, Oluwaseun, Adaeze, Emeka, Funmilayo, Ibrahim, Aisha, Tunde, Chiamaka"
        ),
        last_names=_names(
            "Okafor, Adeyemi, Okonkwo, Bello, Eze, Ogunleye, Abubakar, Nwosu, Adebayo, Oyèlárán"
        ),
    ),
    Country(
        code="BR",
        weight=3,
        locales=(("pt-BR", 1),),
        cities=(
            City("São Paulo", "America/Sao_Paulo", 4),
            City("Rio de Janeiro", "America/Sao_Paulo", 3),
            City("Belo Horizonte", "America/Sao_Paulo"),
            City("Porto Alegre", "America/Sao_Paulo"),
            City("Brasília", "America/Sao_Paulo"),
            City("Recife", "America/Recife"),
            City("Fortaleza", "America/Fortaleza"),
            City("Salvador", "America/Bahia"),
            City("Manaus", "America/Manaus"),
            City("Belém", "America/Belem"),
        ),
        first_names=_names(
            "João, Maria, José, Ana, Luiz, Francisca, Gabriel, Juliana, Lucas, Conceição, Thiago, "
            "Letícia"
        ),
        last_names=_names(
            "Silva, Santos, Oliveira, Souza, Pereira, Lima, Carvalho, Ferreira, Gonçalves, Araújo, "
            "Ribeiro, da Conceição"
        ),
    ),
    Country(
        code="MX",
        weight=3,
        locales=(("es-MX", 1),),
        cities=(
            City("Ciudad de México", "America/Mexico_City", 4),
            City("Guadalajara", "America/Mexico_City", 2),
            City("Puebla", "America/Mexico_City"),
            City("Monterrey", "America/Monterrey", 2),
            City("Tijuana", "America/Tijuana"),
            City("Hermosillo", "America/Hermosillo"),
            City("Cancún", "America/Cancun"),
        ),
        first_names=_names(
            "José, María, Juan, Guadalupe, Luis, Ximena, Carlos, Sofía, Jesús, Valentina, "
            "Miguel Ángel, Fernanda"
        ),
        last_names=_names(
            "Hernández, García, Martínez, López, González, Pérez, Rodríguez, Sánchez, Ramírez, "
            "Cruz, de la Cruz, Flores"
        ),
    ),
    Country(
        code="KE",
        weight=2,
        locales=(("en-KE", 1), ("sw-KE", 1)),
        cities=(
            City("Nairobi", "Africa/Nairobi"),
            City("Nairobi", "Africa/Nairobi"),
            City("Mombasa", "Africa/Nairobi"),
            City("Kisumu", "Africa/Nairobi"),
            City("Nakuru", "Africa/Nairobi"),
        ),
        first_names=_names(
            "Brian, Faith, Kevin, Mercy, Dennis, Grace, Wanjiru, Achieng, Kiprono, Njeri"
        ),
        last_names=_names(
            "Otieno, Kamau, Mwangi, Ochieng, Kiprop, Wambua, Njoroge, Mutua, Chebet, Omondi"
        ),
    ),
    Country(
        code="ZA",
        weight=2,
        locales=(("en-ZA", 7), ("af-ZA", 2), ("zu-ZA", 1)),
        cities=(
            City("Johannesburg", "Africa/Johannesburg"),
            City("Cape Town", "Africa/Johannesburg"),
            City("Durban", "Africa/Johannesburg"),
            City("Pretoria", "Africa/Johannesburg"),
            City("Gqeberha", "Africa/Johannesburg"),
        ),
        first_names=_names(
            "Thabo, Lerato, Sipho, Nomvula, Pieter, Annelie, Johan, Zanele, Mandla, Chantelle"
        ),
        last_names=_names(
            "Nkosi, Dlamini, van der Merwe, Botha, Naidoo, Mokoena, Khumalo, Pretorius, Ndlovu, "
            "Smit"
        ),
    ),
    Country(
        code="JP",
        weight=2,
        locales=(("ja-JP", 1),),
        cities=(
            City("Tokyo", "Asia/Tokyo"),
            City("Tokyo", "Asia/Tokyo"),
            City("Ōsaka", "Asia/Tokyo"),
            City("Yokohama", "Asia/Tokyo"),
            City("Nagoya", "Asia/Tokyo"),
            City("Sapporo", "Asia/Tokyo"),
            City("Fukuoka", "Asia/Tokyo"),
        ),
        first_names=_names(
            "Hiroshi, Yuki, Takeshi, Sakura, Kenji, Aiko, Haruto, Yui, Sōta, Yōko, Daisuke, Mei"
        ),
        last_names=_names(
            "Satō, Suzuki, Takahashi, Tanaka, Watanabe, Itō, Yamamoto, Nakamura, Kobayashi, Katō, "
            "Yoshida, Yamada"
        ),
    ),
    Country(
        code="KR",
        weight=2,
        locales=(("ko-KR", 1),),
        cities=(
            City("Seoul", "Asia/Seoul"),
            City("Seoul", "Asia/Seoul"),
            City("Busan", "Asia/Seoul"),
            City("Incheon", "Asia/Seoul"),
            City("Daegu", "Asia/Seoul"),
            City("Daejeon", "Asia/Seoul"),
        ),
        first_names=_names(
            "Min-jun, Seo-yeon, Ji-ho, Ji-woo, Do-yun, Ha-eun, Seo-jun, Su-bin, Hyun-woo, Ye-jin"
        ),
        last_names=_names("Kim, Lee, Park, Choi, Jung, Kang, Cho, Yoon, Jang, Lim"),
    ),
    Country(
        code="PL",
        weight=2,
        locales=(("pl-PL", 1),),
        cities=(
            City("Warszawa", "Europe/Warsaw"),
            City("Kraków", "Europe/Warsaw"),
            City("Łódź", "Europe/Warsaw"),
            City("Wrocław", "Europe/Warsaw"),
            City("Poznań", "Europe/Warsaw"),
            City("Gdańsk", "Europe/Warsaw"),
        ),
        first_names=_names(
            "Łukasz, Anna, Piotr, Katarzyna, Krzysztof, Małgorzata, Tomasz, Agnieszka, Paweł, "
            "Zofia, Michał, Joanna"
        ),
        last_names=_names(
            "Nowak, Kowalski, Wiśniewski, Wójcik, Kowalczyk, Kamiński, Lewandowski, Zieliński, "
            "Szymański, Woźniak, Dąbrowski, Kozłowski"
        ),
    ),
    Country(
        code="TR",
        weight=2,
        locales=(("tr-TR", 1),),
        cities=(
            City("İstanbul", "Europe/Istanbul"),
            City("İstanbul", "Europe/Istanbul"),
            City("Ankara", "Europe/Istanbul"),
            City("İzmir", "Europe/Istanbul"),
            City("Bursa", "Europe/Istanbul"),
        ),
        first_names=_names(
            "Mehmet, Ayşe, Mustafa, Fatma, Ahmet, Zeynep, Emre, Elif, Burak, Büşra, Oğuz, Gülşen"
        ),
        last_names=_names(
            "Yılmaz, Kaya, Demir, Şahin, Çelik, Yıldız, Yıldırım, Öztürk, Aydın, Özdemir, Arslan, "
            "Doğan"
        ),
    ),
    Country(
        code="SE",
        weight=2,
        locales=(("sv-SE", 1),),
        cities=(
            City("Stockholm", "Europe/Stockholm"),
            City("Göteborg", "Europe/Stockholm"),
            City("Malmö", "Europe/Stockholm"),
            City("Uppsala", "Europe/Stockholm"),
            City("Umeå", "Europe/Stockholm"),
        ),
        first_names=_names(
            "Erik, Anna, Lars, Åsa, Johan, Karin, Björn, Maria, Oskar, Elin, Måns, Linnéa"
        ),
        last_names=_names(
            "Andersson, Johansson, Karlsson, Nilsson, Eriksson, Larsson, Olsson, Persson, Öberg, "
            "Åberg, Lindström, Sjögren"
        ),
    ),
    Country(
        code="EG",
        weight=2,
        locales=(("ar-EG", 1),),
        cities=(
            City("Cairo", "Africa/Cairo"),
            City("Cairo", "Africa/Cairo"),
            City("Alexandria", "Africa/Cairo"),
            City("Giza", "Africa/Cairo"),
            City("Mansoura", "Africa/Cairo"),
        ),
        first_names=_names(
            "Mohamed, Fatma, Ahmed, Nour, Mahmoud, Mariam, Omar, Salma, Youssef, Aya, Mostafa, Hoda"
        ),
        last_names=_names(
            "Hassan, Ibrahim, Mahmoud, Ali, Abdel-Rahman, El-Sayed, Mostafa, Farouk, Gamal, Saleh, "
            "Abdelaziz, Khalil"
        ),
    ),
    Country(
        code="VN",
        weight=2,
        locales=(("vi-VN", 1),),
        cities=(
            City("Hà Nội", "Asia/Ho_Chi_Minh"),
            City("Thành phố Hồ Chí Minh", "Asia/Ho_Chi_Minh"),
            City("Thành phố Hồ Chí Minh", "Asia/Ho_Chi_Minh"),
            City("Đà Nẵng", "Asia/Ho_Chi_Minh"),
            City("Hải Phòng", "Asia/Ho_Chi_Minh"),
            City("Cần Thơ", "Asia/Ho_Chi_Minh"),
        ),
        first_names=_names(
            "Anh, Linh, Minh, Trang, Hùng, Hương, Dũng, Thảo, Quang, Ngọc, Tuấn, Mai"
        ),
        last_names=_names("Nguyễn, Trần, Lê, Phạm, Hoàng, Huỳnh, Phan, Vũ, Võ, Đặng, Bùi, Đỗ"),
    ),
    Country(
        code="ID",
        weight=2,
        locales=(("id-ID", 1),),
        cities=(
            City("Jakarta", "Asia/Jakarta", 3),
            City("Surabaya", "Asia/Jakarta"),
            City("Bandung", "Asia/Jakarta"),
            City("Medan", "Asia/Jakarta"),
            City("Denpasar", "Asia/Makassar"),
            City("Makassar", "Asia/Makassar"),
            City("Jayapura", "Asia/Jayapura"),
        ),
        first_names=_names("Budi, Siti, Agus, Dewi, Andi, Putri, Rizky, Ayu, Wahyu, Nur, Eko, Sri"),
        last_names=_names(
            "Santoso, Wijaya, Saputra, Hidayat, Kusuma, Pratama, Setiawan, Nugroho, Lestari, "
            "Halim, Gunawan, Susanto"
        ),
    ),
    Country(
        code="PH",
        weight=2,
        locales=(("en-PH", 3), ("fil-PH", 2)),
        cities=(
            City("Manila", "Asia/Manila"),
            City("Quezon City", "Asia/Manila"),
            City("Cebu City", "Asia/Manila"),
            City("Davao City", "Asia/Manila"),
        ),
        first_names=_names(
            "Jose, Maria, Juan, Cristina, Mark, Angelica, John Paul, Princess, Jerome, Kristine"
        ),
        last_names=_names(
            "Santos, Reyes, Cruz, Bautista, Ocampo, Garcia, Mendoza, Dela Cruz, Villanueva, Ramos"
        ),
    ),
    Country(
        code="AR",
        weight=1,
        locales=(("es-AR", 1),),
        cities=(
            City("Buenos Aires", "America/Argentina/Buenos_Aires", 3),
            City("Córdoba", "America/Argentina/Cordoba"),
            City("Rosario", "America/Argentina/Cordoba"),
            City("Mendoza", "America/Argentina/Mendoza"),
        ),
        first_names=_names(
            "Martín, Sofía, Santiago, Valentina, Mateo, Camila, Facundo, Lucía, Joaquín, Florencia"
        ),
        last_names=_names(
            "González, Rodríguez, Gómez, Fernández, López, Díaz, Martínez, Pérez, Romero, Sosa"
        ),
    ),
    Country(
        code="NZ",
        weight=1,
        locales=(("en-NZ", 85), ("mi-NZ", 15)),
        cities=(
            City("Auckland", "Pacific/Auckland", 3),
            City("Wellington", "Pacific/Auckland", 2),
            City("Christchurch", "Pacific/Auckland"),
            City("Dunedin", "Pacific/Auckland"),
            City("Waitangi (Chatham Islands)", "Pacific/Chatham"),
        ),
        first_names=_names(
            "Oliver, Isla, Nikau, Aroha, Jack, Amelia, Wiremu, Mere, Hunter, Charlotte"
        ),
        last_names=_names(
            "Smith, Wilson, Williams, Brown, Taylor, Ngata, Te Rangi, Parata, Anderson, Thompson"
        ),
    ),
)

# (programme, first class year that graduated from it)
PROGRAMMES: tuple[tuple[str, int], ...] = (
    ("BA History", 0),
    ("BA English Literature", 0),
    ("BA Modern Languages", 0),
    ("BSc Mathematics", 0),
    ("BSc Physics", 0),
    ("BSc Economics", 0),
    ("BEng Civil Engineering", 0),
    ("LLB Law", 0),
    ("MBA", 1975),
    ("BSc Computer Science", 1982),
    ("BSc Nursing", 1990),
    ("MSc Environmental Science", 1996),
    ("BA Media Studies", 1998),
    ("BSc Biomedical Science", 2005),
    ("MSc Data Science", 2015),
)

# Reserved domains (RFC 2606 / RFC 6761) so that no generated address belongs to anyone.
EMAIL_DOMAINS: tuple[tuple[str, int], ...] = (
    ("example.com", 30),
    ("example.org", 12),
    ("example.net", 10),
    ("mail.example", 14),
    ("inbox.example", 8),
    ("post.example", 6),
    ("correo.example", 5),
    ("courriel.example", 3),
    ("posteo.example", 3),
    ("alumni.example", 5),
    ("work.example", 4),
)

# Domains of providers that closed long ago. Syntactically valid on purpose (email-validator
# refuses `.invalid`, which would reject the row instead of importing a bouncing address).
DEAD_EMAIL_DOMAINS: tuple[str, ...] = ("oldisp.example", "dialup.example", "freemail-1999.example")

MASTODON_INSTANCES: tuple[str, ...] = ("mastodon.example", "social.example", "mstdn.example")
BLUESKY_SUFFIX = "bsky.example"
