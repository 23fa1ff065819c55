#!/usr/bin/env python3
"""Writes the text check's labelled corpus (tests/data/textcheck/corpus.tsv).

Every person here is invented: given names and surnames are combined at random, and a third
of the names are spelled by a syllable generator, so they are in no list the checker ships
(the held-out part: the check cannot be tuned to them). The name pools were written for this
corpus by hand from names common in the UK's communities (White British, Irish, South Asian,
West African, Eastern European, Caribbean, Somali, Chinese), not taken from the gazetteer.

Each line is: category TAB text TAB spans, spans being `kind:start:end` byte offsets into the
UTF-8 text joined by ';' (empty for a clean line). A line is caught when every span overlaps a
finding of that kind (a `name` span also accepts `register_name`). Deterministic: the same
seed gives the same file. Usage: gen.py [OUT]
"""
import random
import sys
import unicodedata

SEED = 17

POOLS = {
    "british": (
        "Oliver George Harry Jack Charlie Thomas Jacob Alfie Freddie Oscar Archie Leo Joshua "
        "Amelia Olivia Isla Emily Poppy Ava Isabella Jessica Lily Sophie Evie Megan Chloe "
        "Callum Bethany Kieran Jade Liam Courtney Jordan Kayleigh Reece Shannon Tyler Abbie",
        "Smith Jones Taylor Brown Wilson Evans Thomas Roberts Johnson Lewis Walker Robinson "
        "Wood Thompson Wright Hughes Edwards Green Hall Harrison Jackson Clarke Turnbull "
        "Hutchinson Pemberton Ashworth Blackwood Fairbrother Greenhalgh Ollerenshaw",
    ),
    "irish": (
        "Siobhán Aoife Niamh Saoirse Ciara Orla Róisín Caoimhe Sinéad Aisling Clodagh "
        "Cian Oisín Seán Pádraig Ciarán Donal Eoin Fionn Cormac Darragh Tadhg Declan Ronan",
        "Murphy Kelly O'Sullivan Walsh O'Brien Byrne Ryan O'Connor O'Neill Doyle McCarthy "
        "Gallagher O'Doherty Kennedy Lynch Murray Quinn Moore McLaughlin Carroll Ó Briain "
        "Mac Giolla Fitzgerald Brennan Nolan",
    ),
    "south_asian": (
        "Muhammad Mohammed Aisha Ayesha Fatima Zainab Maryam Hamza Ibrahim Yusuf Zara Aliyah "
        "Arjun Priya Aarav Ananya Rohan Simran Harpreet Gurpreet Jaspreet Manpreet Sukhdeep "
        "Abdul Rahim Nusrat Tahmina Shirin Rukhsana Imran Asif Kamran Sana Farhana Rizwan "
        "Mehreen Faisal Nadia Saima Tanvir Shabana Habib Rubina Jasvinder Deepak Anjali Kiran",
        "Khan Ahmed Hussain Ali Begum Akhtar Patel Singh Kaur Sharma Rahman Islam Uddin Miah "
        "Chowdhury Hossain Iqbal Mahmood Shah Butt Rashid Malik Bibi Qureshi Siddiqui Choudhry "
        "Mirza Sandhu Gill Dhillon Grewal Bhatti Kapoor Mistry Desai Chaudhry Javed Saleem",
    ),
    "west_african": (
        "Oluwaseun Adebayo Chidi Chiamaka Ngozi Emeka Obinna Adaeze Tolulope Temitope "
        "Olamide Ifeoma Chinonso Kwame Kofi Ama Akosua Yaw Abena Kwabena Efua Nana Esi Kojo "
        "Folasade Babajide Oluwadamilare Ayodele Nkechi Uchenna Chukwuemeka Femi Funmilayo",
        "Okafor Adeyemi Okonkwo Oyelaran Adebayo Olawale Nwosu Eze Chukwu Okoro Mensah Asante "
        "Boateng Owusu Osei Addo Appiah Agyeman Darko Ogunleye Balogun Adeleke Afolabi "
        "Oladipo Onyekachi Nwachukwu Ogunbiyi Danquah Ofori Acheampong",
    ),
    "eastern_european": (
        "Łukasz Zofia Wiktoria Jakub Kacper Szymon Oliwia Małgorzata Paweł Agnieszka Tomasz "
        "Katarzyna Michał Magdalena Krzysztof Andrei Ionuț Ștefan Mihaela Alexandru Elena "
        "Darius Bianca Vytautas Rūta Aistė Jonas Lukas Marek Zuzana Tereza Dávid Petra "
        "Nikola Dorota Grzegorz Bożena Władysław Radosław",
        "Kowalski Nowak Wiśniewski Wójcik Kamińska Lewandowski Zieliński Szymańska Woźniak "
        "Dąbrowski Kozłowska Jankowski Popescu Ionescu Dumitru Stan Gheorghe Constantin "
        "Kazlauskas Petrauskas Jankauskas Horváth Novák Dvořák Černý Kováč Baranowski "
        "Grabowska Pawlak Michalski Sobczak Krawczyk",
    ),
    "caribbean_somali_chinese": (
        "Jermaine Tyrone Shanice Marcia Delroy Winston Abdi Hodan Ayaan Farah Liban Hamdi "
        "Warsame Ubah Mei Wei Jun Xiao Ling Yan Hui",
        "Campbell Brown Williams Francis Grant Reid Bailey Gordon Warsame Hassan Abdullahi "
        "Osman Jama Egal Chen Wang Li Zhang Liu Huang Lam Wong Cheung Tang",
    ),
}

# Syllables for the held-out invented names, by the sound of each community's names.
SYLLABLES = {
    "british": ("bre ca dal fen gor hal jes kel lor mar nel per ros tal wil", "ton ley by worth field ham stead wick"),
    "irish": ("ao bri cao dei eoi fia gra mui nia ror sio tai", "lan rin gh agh ín án ne id"),
    "south_asian": ("aa bil far haq ja kam meh nas raf sab tah waq yas zub", "an ir een ah ul ood ina ar"),
    "west_african": ("ade chi eb fol ike kwa nne obi olu sey tun uche ya", "mi wa bo tu ke ro ka nde"),
    "eastern_european": ("bro dra gor jar kro mir pol rad sla tom wla zdz", "ski cz ak ek owa escu as iu"),
    "caribbean_somali_chinese": ("ab del fa hu ja li mar qi sha wa xu yu", "dan ton ise ane ing ow ar"),
}

PLACES = "Leeds Bradford Luton Leicester Croydon Brent Newham Salford Rochdale Oldham Derby"


def words(s):
    return s.split()


def invent(rng, community, cap=True):
    a, b = SYLLABLES[community]
    a, b = words(a), words(b)
    n = rng.choice((1, 2, 2))
    w = "".join(rng.choice(a) for _ in range(n)) + rng.choice(b)
    return w.capitalize() if cap else w


class Gen:
    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.lines = []

    def community(self):
        return self.rng.choice(list(POOLS))

    def given(self, c=None):
        c = c or self.community()
        if self.rng.random() < 0.33:
            return invent(self.rng, c)
        return self.rng.choice(words(POOLS[c][0]))

    def surname(self, c=None):
        c = c or self.community()
        if self.rng.random() < 0.33:
            return invent(self.rng, c)
        return self.rng.choice(words(POOLS[c][1]))

    def emit(self, category, parts):
        """PARTS: strings, or (kind, text) for labelled spans."""
        text, spans, pos = "", [], 0
        for p in parts:
            if isinstance(p, tuple):
                kind, t = p
                b = len(text.encode())
                text += t
                spans.append(f"{kind}:{b}:{len(text.encode())}")
            else:
                text += p
        assert "\t" not in text and "\n" not in text
        self.lines.append(f"{category}\t{text}\t{';'.join(spans)}")


KIN = (
    "Mum Mother Dad Father stepdad Stepdad stepmum step-dad grandmother Grandmother "
    "grandfather Nan Gran grandma Grandad aunt Aunt Auntie uncle Uncle sibling brother "
    "Brother sister Sister half-brother cousin carer foster carer partner boyfriend "
    "girlfriend stepbrother stepsister"
)
PHRASES = (
    "Met with", "met with", "Seen by", "seen by", "Spoke to", "spoke to", "Spoke with",
    "Visited", "Phoned", "Accompanied by", "Seen with", "Referred by", "Lives with",
    "Home visit to",
)
TAILS = (
    "about sleep and school attendance.", "at the family home.", "on Tuesday afternoon.",
    "regarding the safety plan.", "and agreed the next steps.", "who was tired but engaged.",
    "after the review meeting.", "in clinic; mood improving.", "by phone.",
)
ACTIONS = (
    "said the nights are difficult.", "was not in school on Monday.", "has missed three appointments.",
    "attended the review.", "reported the bedroom is damp.", "was calm and chatty today.",
    "declined the referral for now.", "is worried about the move.",
)
TITLES = "Mr Mrs Ms Miss Dr Mx Mr. Mrs. Dr."


def names(g, n):
    for _ in range(n):
        c = g.community()
        r = g.rng.randrange(12)
        giv, sur = g.given(c), g.surname(c)
        tail, act = g.rng.choice(TAILS), g.rng.choice(ACTIONS)
        if r == 0:
            g.emit("name_full", [("name", f"{giv} {sur}"), " " + act])
        elif r == 1:
            g.emit("name_title", [g.rng.choice(("Spoke to ", "Letter to ", "Call from ", "")),
                                  ("name", f"{g.rng.choice(words(TITLES))} {sur}"), " " + tail])
        elif r == 2:
            kin = g.rng.choice(words(KIN))
            form = g.rng.randrange(4)
            if form == 0:
                g.emit("name_kinship", [f"{kin} (", ("name", giv), ") " + act])
            elif form == 1:
                g.emit("name_kinship", [f"Her {kin.lower()} ", ("name", giv), " " + act])
            elif form == 2:
                g.emit("name_kinship", [f"{kin.capitalize()}, ", ("name", giv), ", " + act])
            else:
                g.emit("name_kinship", [f"His {kin.lower()} ", ("name", f"{giv} {sur}"), " " + act])
        elif r == 3:
            ph = g.rng.choice(PHRASES)
            full = g.rng.random() < 0.4
            g.emit("name_phrase", [ph + " ", ("name", f"{giv} {sur}" if full else giv), " " + tail])
        elif r == 4:
            g.emit("name_possessive", [g.rng.choice(("Visited ", "Concerns about ", "Saw ", "Checked ")),
                                       ("name", giv), "'s " + g.rng.choice(("bedroom.", "school bag.", "medication.", "sleep diary."))])
        elif r == 5:
            g.emit("name_surname_given", [("name", f"{sur.upper()}, {giv}"), " - " + g.rng.choice(("seen today.", "review due.", "file updated."))])
        elif r == 6:
            a, b, c2 = g.given(), g.given(), g.given()
            g.emit("name_list", [("name", a), ", ", ("name", b), " and ", ("name", c2), " " + g.rng.choice(("attended.", "were at home.", "came to clinic."))])
        elif r == 7:
            form = g.rng.randrange(3)
            if form == 0:
                g.emit("name_lowercase", [("name", f"{giv.lower()} {sur.lower()}"), " " + act])
            elif form == 1:
                g.emit("name_lowercase", [g.rng.choice(("mum ", "dad ", "spoke to ", "met with ", "nan ")), ("name", giv.lower()), " " + tail])
            else:
                g.emit("name_lowercase", ["seen with ", ("name", f"{giv.lower()} {sur.lower()}"), " " + tail])
        elif r == 8:
            pick = g.rng.randrange(4)
            if pick == 0:
                nm = f"{giv} O'{g.rng.choice(('Neill', 'Connor', 'Brien', 'Sullivan', 'Doherty', 'Keeffe'))}"
            elif pick == 1:
                nm = f"{g.rng.choice(('Anne', 'Mary', 'Lily', 'Ama', 'Zara', 'Ellie'))}-{g.rng.choice(('Marie', 'Rose', 'May', 'Grace', 'Mae'))} {sur}"
            elif pick == 2:
                nm = f"{giv} {sur}-{g.surname()}"
            else:
                nm = f"{giv} D'{g.rng.choice(('Souza', 'Costa', 'Silva', 'Mello'))}"
            g.emit("name_hyphen_apostrophe", [("name", nm), " " + act])
        elif r == 9:
            dia = g.rng.choice(words("Zoë Łukasz Siobhán Renée Chloë Małgorzata Ionuț Dávid Róisín Seán "
                                     "Noémie Zoé Jiří Ömer Gülşen Håkon Søren Anaïs Mélanie Aurélie "
                                     "Paweł Sinéad Oisín Ștefan Bożena"))
            if g.rng.random() < 0.35:
                dia = unicodedata.normalize("NFD", dia)
            g.emit("name_diacritic", [("name", f"{dia} {sur}" if g.rng.random() < 0.5 else dia), " " + act])
        elif r == 10:
            # A name the agency's own lists would not know, after a role word.
            role = g.rng.choice(("Teacher", "Social worker", "Key worker", "Foster carer", "Childminder", "Neighbour"))
            g.emit("name_kinship", [f"{role} ", ("name", f"{invent(g.rng, c)} {invent(g.rng, c)}"), " " + act])
        else:
            g.emit("name_full", ["Discussed with ", ("name", f"{giv} {sur}"), " " + tail])


def nhs(g):
    while True:
        # Numbers issued in England and Wales start 4, 6 or 7 (Scotland's CHI and Northern
        # Ireland's numbers share the format and check digit and start 0-3).
        d = [g.rng.choice((3, 4, 4, 4, 6, 7, 7))] + [g.rng.randrange(10) for _ in range(8)]
        s = sum(d[k] * (10 - k) for k in range(9))
        c = 11 - s % 11
        if c == 11:
            c = 0
        if c != 10:
            return "".join(map(str, d + [c]))


def nhs_forms(g, n):
    for _ in range(n):
        d = nhs(g)
        f = g.rng.randrange(8)
        if f == 0:
            t = d
        elif f == 1:
            t = f"{d[:3]} {d[3:6]} {d[6:]}"
        elif f == 2:
            t = f"{d[:3]}.{d[3:6]}.{d[6:]}"
        elif f == 3:
            t = f"{d[:3]} {d[3:7]} {d[7:]}"
        elif f == 4:
            t = " ".join(d)
        elif f == 5:
            t = f"{d[:3]}-{d[3:6]}-{d[6:]}"
        elif f == 6:
            t = f"{d[:2]} {d[2:4]} {d[4:6]} {d[6:8]} {d[8:]}"
        else:
            t = f"{d[:5]} {d[5:]}"
        lead = g.rng.choice(("NHS no ", "NHS number: ", "nhs ", "Her NHS number is ", "GP gave ", "Ref ", ""))
        g.emit("nhs_number", [lead, ("nhs_number", t), g.rng.choice((" on the form.", ".", " (checked).", ""))])


POST_AREAS = "B BS CF E EC G L LS M N NW S SE SW W WC BD LU LE CR HA OL BL DE NG CB OX RG IG DA"
INWARD = "ABDEFGHJLNPQRSTUWXYZ"


def postcode(g):
    shape = g.rng.choice(("A9", "A99", "AA9", "AA99", "A9A", "AA9A", "GIR"))
    if shape == "GIR":
        return "GIR 0AA"
    one = [a for a in words(POST_AREAS) if len(a) == 1]
    two = [a for a in words(POST_AREAS) if len(a) == 2]
    if shape.startswith("AA"):
        out = g.rng.choice(two)
    else:
        out = g.rng.choice(one)
    rest = shape[len(out):] if len(out) == len([c for c in shape if c == "A" and shape.index(c) < 2]) else shape[len(out):]
    rest = shape[2:] if shape.startswith("AA") else shape[1:]
    for ch in rest:
        out += str(g.rng.randrange(1, 10)) if ch == "9" else g.rng.choice("ABEHMNPRVWXY")
    return out + " " + str(g.rng.randrange(10)) + g.rng.choice(INWARD) + g.rng.choice(INWARD)


def postcodes(g, n):
    for _ in range(n):
        p = postcode(g)
        f = g.rng.randrange(4)
        if f == 1:
            p = p.replace(" ", "")
        elif f == 2:
            p = p.lower()
        lead = g.rng.choice(("Moved to ", "Postcode ", "Lives near ", "New address is in ", "Family now at ", "Temporary accommodation, "))
        g.emit("postcode", [lead, ("postcode", p), g.rng.choice((".", " since May.", " (council flat).", ""))])


DOMAINS = "gmail.com hotmail.co.uk outlook.com yahoo.co.uk icloud.com btinternet.com example.org"


def emails(g, n):
    for _ in range(n):
        user = g.rng.choice((g.given().lower(), f"{g.given().lower()}.{g.surname().lower()}",
                             f"{g.surname().lower()}{g.rng.randrange(10, 99)}"))
        user = unicodedata.normalize("NFKD", user).encode("ascii", "ignore").decode().replace("'", "")
        dom = g.rng.choice(words(DOMAINS))
        f = g.rng.randrange(6)
        if f == 0:
            t = f"{user}@{dom}"
        elif f == 1:
            t = f"{user} at {dom.replace('.', ' dot ')}"
        elif f == 2:
            t = f"{user} [at] {dom.replace('.', ' [dot] ')}"
        elif f == 3:
            t = f"{user}(at){dom.replace('.', '(dot)')}"
        elif f == 4:
            t = f"{user} AT {dom.replace('.', ' DOT ')}"
        else:
            t = f"{user} @ {dom}"
        lead = g.rng.choice(("Email ", "Mum's email is ", "Contact: ", "Send the letter to ", "email: "))
        g.emit("email", [lead, ("email", t), g.rng.choice((".", " please.", "", " for updates."))])


def phones(g, n):
    for _ in range(n):
        f = g.rng.randrange(8)
        mob = "7" + "".join(str(g.rng.randrange(10)) for _ in range(9))
        geo = g.rng.choice(("161", "113", "121", "20", "114", "1632", "131", "1274"))
        rest = "".join(str(g.rng.randrange(10)) for _ in range(10 - len(geo)))
        if f == 0:
            t = f"0{mob[:4]} {mob[4:]}"
        elif f == 1:
            t = f"0{mob}"
        elif f == 2:
            t = f"+44 {mob[:4]} {mob[4:]}"
        elif f == 3:
            t = f"+44 (0){mob[:4]} {mob[4:7]} {mob[7:]}"
        elif f == 4:
            t = f"(0{geo}) {rest}"
        elif f == 5:
            t = f"0{geo}-{rest[:3]}-{rest[3:]}"
        elif f == 6:
            t = f"0{geo} {rest[:3]} {rest[3:]}" if g.rng.random() < 0.7 else f"0{mob[:4]}.{mob[4:7]}.{mob[7:]}"
        else:
            t = f"+44{mob}"
        lead = g.rng.choice(("Call ", "Mobile ", "Tel: ", "Dad's number is ", "Contact on ", "ring "))
        g.emit("phone", [lead, ("phone", t), g.rng.choice((" after 4.", ".", " (mobile).", ""))])


STREETS = "Road Street Avenue Close Lane Drive Way Crescent Court Gardens Terrace Place Grove Hill"
STREET_NAMES = "Acacia Mill Station Church Victoria Oak Albert Park Meadow Chapel Elm Canal Kings Hollin Beech Ashfield"


def addresses(g, n):
    for _ in range(n):
        f = g.rng.randrange(7)
        num = str(g.rng.randrange(1, 240)) + (g.rng.choice(("a", "b", "")) if g.rng.random() < 0.2 else "")
        st = f"{g.rng.choice(words(STREET_NAMES))} {g.rng.choice(words(STREETS))}"
        if g.rng.random() < 0.15:
            st = st.lower()
        if f == 0:
            g.emit("address", ["Lives at ", ("address", f"{num} {st}"), g.rng.choice((".", " with mum.", ""))])
        elif f == 1:
            g.emit("address", ["Moved to ", ("address", f"Flat {g.rng.randrange(1, 40)}, {num} {st}"), "."])
        elif f == 2:
            g.emit("address", ["Home visit: ", ("address", f"Apartment {g.rng.randrange(1, 90)}"), g.rng.choice((", Riverside House.", " on the third floor."))])
        elif f == 3:
            g.emit("address", ["Address ", ("address", f"{num} {st}"), ", ", ("postcode", postcode(g)), "."])
        elif f == 4:
            g.emit("address", ["The family is at ", ("address", f"Flat {g.rng.randrange(1, 40)}"), " in temporary housing."])
        elif f == 5:
            g.emit("address", ["New tenancy at ", ("address", f"{num}, {st}"), " from Monday."])
        else:
            house = g.rng.choice(("Linden", "Old Forge", "Rosebank", "Hollybush", "Mill House", "Brookside"))
            g.emit("address", ["Address: ", ("address", f"{num} {house}"), g.rng.choice((", ", " ")), ("postcode", postcode(g)), "."])


def dobs(g, n):
    months = "January February March April May June July August September October November December"
    for _ in range(n):
        d, m, y = g.rng.randrange(1, 29), g.rng.randrange(1, 13), g.rng.randrange(2008, 2024)
        t = g.rng.choice((f"{d:02d}/{m:02d}/{y}", f"{d} {words(months)[m - 1]} {y}", f"{y}-{m:02d}-{d:02d}"))
        g.emit("date_of_birth", [g.rng.choice(("DOB ", "Date of birth: ", "born ", "D.O.B. ")), ("date_of_birth", t), "."])


CLEAN = [
    "Amber rating given at the strategy meeting; review in four weeks.",
    "Jack the car wheel up before changing the tyre, said the mechanic on the video.",
    "Attends St Mary's Primary; Year 7 transition plan agreed.",
    "Mum reported better sleep since the new routine.",
    "Dad attended the review and agreed the plan.",
    "Mum and Dad both attended; Nan could not make it.",
    "Mum said she was tired but coping.",
    "Seen by the school nurse; weight stable.",
    "Spoke to the Designated Safeguarding Lead about attendance.",
    "Met with Early Help and Social Care to agree the next steps.",
    "Referred by the GP to CAMHS for a CAPA choice appointment.",
    "Down syndrome screening normal; hearing test booked.",
    "SDQ total 14, emotional subscale 6; RCADS completed.",
    "Sertraline 50mg started; review side effects in two weeks.",
    "Melatonin continues; sleep diary shows settling by 9pm.",
    "Room 12 booked for the Team Around the Family meeting at 14:30.",
    "Three sessions of CBT completed out of eight planned.",
    "Review on 12/03/2026, next on 2026-04-09, then 9 May 2026.",
    "Road safety session delivered to Year 5 in the spring term.",
    "Grace period for the housing application ends in June.",
    "Will attend the review on Monday if transport is arranged.",
    "Hope to close the case at the next review.",
    "May and June were difficult months at school.",
    "Health Visitor completed the 2 year review; ASQ within range.",
    "Paediatrics appointment moved to Thursday afternoon.",
    "Child presents with low mood and poor appetite.",
    "School reports attendance of 86% this half term.",
    "Housing officer to confirm the repair of the boiler.",
    "The child's bedroom was clean and warm.",
    "Sibling group of three; all attend the same primary.",
    "Brother and sister share a bedroom; bunk beds requested.",
    "Stepdad works nights; mum manages the school run.",
    "Grandmother provides after-school care twice a week.",
    "Foster carer reports no incidents this week.",
    "Ward 4 discharge planned once bloods are back.",
    "Case reference LA7-2026-000123 noted on the referral.",
    "The plan was shared with the Virtual School Head.",
    "PHQ9 score 14; GAD7 score 11; next review in 6 weeks.",
    "Meeting held at the Civic Centre, Room 3.",
    "Y11 2nd term mock results are encouraging.",
    "Contact the MASH duty desk if concerns escalate.",
    "Phoned school: no answer, message left.",
    "Visited the family home; no concerns noted.",
    "Lives with mum and two younger siblings.",
    "Accompanied by her aunt to the appointment.",
    "Seen with her keyworker at the youth centre.",
    "Dr appointment booked for next week.",
    "Miss School was mentioned in the report title.",
    "Mark the review date in the calendar.",
    "Young people's service to offer mentoring.",
    "Summer holiday plan includes the holiday club.",
    "Autumn term attendance improved to 93%.",
    "Olive oil and eczema cream advised by the pharmacist.",
    "Hazel eyes, height on the 50th centile.",
    "Violet bruise noted on the forearm and body-mapped.",
    "Ruby Street Youth Club closed for refurbishment this month.",
    "Victoria Park was the venue for the family fun day.",
    "Manchester Royal Infirmary discharge letter received.",
    "Alder Hey follow-up in twelve months.",
    "Great Ormond Street referral accepted.",
    "Leeds General Infirmary confirmed the date.",
    "St Thomas' Hospital sent the clinic letter.",
    "Order of the day: Early Help assessment then TAF.",
    "Crohn and coeliac screens negative.",
    "Asperger traits queried by the school SENCO.",
    "EHCP annual review booked for March.",
    "Pupil premium funding covers the school trip.",
    "Parenting course: Incredible Years, week 4 of 12.",
    "Universal Credit payment delayed; food bank voucher given.",
    "Citizens Advice to help with the council tax arrears.",
    "Signposted to Kooth and the school counsellor.",
    "Family Hub offers a stay-and-play on Fridays.",
    "Police attended; no further action.",
    "Section 47 enquiry closed; child in need plan continues.",
    "Core group meeting moved to next Wednesday.",
    "Neighbour complained about noise late at night.",
    "Teacher noted she was withdrawn in class.",
    "Key worker to chase the dentist referral.",
    "Social worker visited and saw the children alone.",
    "Partner no longer lives at the address.",
    "Uncle collects the children on Fridays.",
    "Cousin stays at weekends.",
    # Places, services, medicines and headings that look like names.
    "Referred to Alder Hey for a sleep study; Great Ormond Street declined.",
    "Seen at Leeds General Infirmary, ward 12, by the respiratory team.",
    "Medication: Fluoxetine 10mg, Melatonin 2mg, Movicol one sachet.",
    "Parents completed Triple P and the Solihull Approach course.",
    "Signposted to Mind, Relate, Barnardo's and the Samaritans.",
    "Barnardo's worker visited; Action for Children to follow up.",
    "CAMHS, School and GP all attended the Team Around the Family meeting.",
    "Strengths and Difficulties Questionnaire completed by Mum and the class teacher.",
    "Attends Oakwood Academy; transport from the Civic Centre arranged.",
    "Family moved from Birmingham to Bradford in the summer.",
    "Next review at Kingsway Children's Centre, Room 2, at 9.30.",
    "Plan: Early Help Assessment, Family Support Worker, then review.",
    "Out of hours: call the Emergency Duty Team; the number is on the plan.",
    "Housing: the council offered a two bedroom flat on the ground floor.",
    "Dad's new job starts in March; Mum's shifts change to days.",
    "Child's asthma plan updated; inhaler kept in the school office.",
    "Pupil's attendance 91.4% (target 96%); 12 sessions missed, 4 authorised.",
    "Score 07 of 10 on the wellbeing scale, up from 04.",
    "Reference 4857773456 is the council's case number, not a health number.",
    "Invoice 0161 496 was paid; order 20 7946 pending.",
    "Email the school office at the usual address; do not use personal email.",
    "Met at the school gate at 3.15 and walked home together.",
    "Arrived at home.Then had tea and did homework.",
    "Lives 2 miles up the hill from school; 20 minute drive to clinic.",
    "Has 2 close friends in class and 1 best friend in Year 6.",
    "Flat roof leaking; landlord says repair in 3 weeks.",
    "Room 14, Block C, Main Building: drop-in clinic on Wednesdays.",
    "Year 7 Way Forward group meets after school.",
    "The Court hearing is on 14 May 2026; Cafcass report filed.",
    "Church Road surgery changed its opening hours.",
    "Victoria Park and Heaton Park both have free holiday activities.",
    "Ofsted rated the nursery Good; SENCO reviewing the EHCP.",
    "PEP meeting with the Virtual School; Designated Teacher present.",
    "Speech and Language Therapy: Wellcomm screen at 18 months.",
    "Blood tests: Hb 112, ferritin low; iron started.",
    "Hospital Passport and Health Action Plan shared with the ward.",
    "Sibling contact at the Family Centre every other Saturday.",
    "Independent Reviewing Officer chaired; Looked After Review held.",
    "The Youth Justice Service closed its involvement in April.",
    "Kinship carer assessment under Regulation 24 started.",
    "Private fostering notification received and acknowledged.",
    "Homework club at the Library on Tuesdays and Thursdays.",
    "Food bank at St Peter's Church on Fridays.",
    "Prescription collected from Boots on the High Street.",
    "Hope Street Surgery and Grace House hostel contacted.",
    "May Day bank holiday: clinic closed; Will to be confirmed.",
    "Rose garden project at school helped with anxiety.",
    "Amber and Red RAG ratings explained to the parents.",
    "Jack up the bed legs to help with reflux, advised by the health visitor.",
    "Harry Potter books are a reward at bedtime.",
    "Lily pads and frogs were the theme of the nursery display.",
    "Mark scheme for the SATs explained at parents' evening.",
    "Bill for the school trip waived by the head teacher.",
    "Faith leader at the mosque offered mentoring.",
    "Asian Women's Centre and the Polish Saturday School both offer support.",
    "Interpreter booked (Urdu) for the next visit.",
    "Interpreter booked (Polish) for the review; Romanian next time.",
    "Eid and Diwali celebrations at school were enjoyed.",
    "Attends the Gurdwara on Sundays with the family.",
    "No concerns raised by Health Visiting, School or CAMHS this month.",
    "Discussed with the DSL, the SENCO and the Head of Year.",
    "Seen with the school nurse and the learning mentor.",
    "Spoke to the receptionist at the surgery about the appointment.",
    "Met with the housing officer and the landlord.",
    "Visited the nursery; staff report settling well.",
    "Phoned the GP surgery; results not back yet.",
    "Referred by the school nurse to the community paediatrician.",
    "Accompanied by a family friend to the appointment.",
]

CLEAN_PARTS = (
    ("Mum", "Dad", "Nan", "Stepdad", "The child", "School", "Health visiting", "CAMHS", "The GP", "Social care",
     "Early Help", "The family", "Grandmother", "Foster carer", "The keyworker", "Her brother", "His sister",
     "The Family Support Worker", "The Designated Safeguarding Lead", "Paediatrics", "The Youth Service",
     "The Virtual School", "Housing", "The health visitor", "The SENCO", "Barnardo's", "The learning mentor",
     "Mum's partner", "The interpreter", "Speech and Language Therapy", "The school nurse"),
    ("reported", "confirmed", "agreed", "asked about", "raised concerns about", "updated the team on", "will follow up",
     "shared", "discussed", "is worried about", "noted"),
    ("sleep", "school attendance", "the housing repair", "the safety plan", "the next review", "medication",
     "the referral", "the letter from the clinic", "the SDQ scores", "bedtime routine", "the holiday club",
     "the transport", "the child protection plan", "Year 9 options", "the EHCP", "the dentist"),
    ("on Monday.", "this week.", "at the TAF meeting.", "by phone.", "in clinic.", "on 14/02/2026.", "before half term.",
     "in Room 4.", "with the DSL.", "after school.", "at 10:30.", "for the 3rd time.", "in March."),
)


def clean(g, n):
    for t in CLEAN:
        g.emit("clean", [t])
    for _ in range(n - len(CLEAN)):
        a, b, c, d = (g.rng.choice(p) for p in CLEAN_PARTS)
        extra = ""
        r = g.rng.random()
        if r < 0.15:
            extra = f" Score {g.rng.randrange(0, 40)} of 40."
        elif r < 0.25:
            extra = f" Ref {g.rng.randrange(100000, 999999)}."
        elif r < 0.3:
            extra = f" {g.rng.randrange(2, 30)} sessions left."
        g.emit("clean", [f"{a} {b} {c} {d}{extra}"])


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/data/textcheck/corpus.tsv"
    g = Gen(SEED)
    names(g, 1000)
    nhs_forms(g, 140)
    postcodes(g, 140)
    emails(g, 140)
    phones(g, 140)
    addresses(g, 140)
    dobs(g, 60)
    clean(g, 1800)
    # The hand-written lines at the end of the file (from the "# hand-written" comment on) are
    # not generated: keep them as they are.
    kept = []
    try:
        with open(out, encoding="utf-8") as f:
            text = f.read().split("\n")
        start = next((i for i, l in enumerate(text) if l.startswith("# hand-written")), None)
        if start is not None:
            kept = [l for l in text[start:] if l]
    except FileNotFoundError:
        pass
    with open(out, "w", encoding="utf-8") as f:
        f.write("# generated by tests/data/textcheck/gen.py (seed %d); category, text, kind:start:end spans\n" % SEED)
        for line in g.lines:
            f.write(line + "\n")
        for line in kept:
            f.write(line + "\n")


if __name__ == "__main__":
    main()
